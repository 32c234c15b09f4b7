CREATE TABLE `reports` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`room_id` varchar(36) NOT NULL,
	`reporter_id` varchar(191) NOT NULL,
	`reported_user_id` varchar(191) NOT NULL,
	`message_id` bigint unsigned,
	`reason` varchar(32) NOT NULL,
	`note` varchar(1000),
	`created_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `reports_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
ALTER TABLE `messages` ADD `deleted_at` datetime(3);--> statement-breakpoint
ALTER TABLE `room_members` ADD `blocked_at` datetime(3);--> statement-breakpoint
ALTER TABLE `room_members` ADD `muted` boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `room_members` ADD `hidden_at_message_id` bigint unsigned;--> statement-breakpoint
CREATE INDEX `reports_room_idx` ON `reports` (`room_id`,`id`);--> statement-breakpoint
CREATE INDEX `reports_reported_user_idx` ON `reports` (`reported_user_id`,`id`);