CREATE TABLE `uploads` (
	`id` varchar(32) NOT NULL,
	`room_id` varchar(36) NOT NULL,
	`uploader_id` varchar(191) NOT NULL,
	`content_type` varchar(64) NOT NULL,
	`bytes` int unsigned NOT NULL,
	`width` int unsigned NOT NULL,
	`height` int unsigned NOT NULL,
	`storage_key` varchar(255) NOT NULL,
	`thumb_key` varchar(255) NOT NULL,
	`thumb_content_type` varchar(64) NOT NULL,
	`message_id` bigint unsigned,
	`created_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `uploads_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE INDEX `uploads_room_idx` ON `uploads` (`room_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `uploads_message_idx` ON `uploads` (`message_id`);