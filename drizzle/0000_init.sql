CREATE TABLE `inquiries` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`user_id` varchar(191),
	`name` varchar(100) NOT NULL,
	`email` varchar(191) NOT NULL,
	`phone` varchar(40),
	`category` varchar(50),
	`message` text NOT NULL,
	`status` enum('pending','sent','failed') NOT NULL DEFAULT 'pending',
	`attempts` int NOT NULL DEFAULT 0,
	`last_error` text,
	`next_attempt_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	`created_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	`updated_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	`sent_at` datetime(3),
	CONSTRAINT `inquiries_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `messages` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`room_id` varchar(36) NOT NULL,
	`seq` bigint unsigned NOT NULL,
	`sender_id` varchar(191) NOT NULL,
	`content` varchar(2000) NOT NULL,
	`client_msg_id` varchar(64),
	`created_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `messages_id` PRIMARY KEY(`id`),
	CONSTRAINT `messages_room_seq_idx` UNIQUE(`room_id`,`seq`),
	CONSTRAINT `messages_client_msg_idx` UNIQUE(`room_id`,`sender_id`,`client_msg_id`)
);
--> statement-breakpoint
CREATE TABLE `room_members` (
	`room_id` varchar(36) NOT NULL,
	`user_id` varchar(191) NOT NULL,
	`role` enum('buyer','seller') NOT NULL,
	`last_read_message_id` bigint unsigned NOT NULL DEFAULT 0,
	`joined_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	`left_at` datetime(3),
	CONSTRAINT `room_members_pk` PRIMARY KEY(`room_id`,`user_id`)
);
--> statement-breakpoint
CREATE TABLE `rooms` (
	`id` varchar(36) NOT NULL,
	`product_id` varchar(191) NOT NULL,
	`buyer_id` varchar(191) NOT NULL,
	`seller_id` varchar(191) NOT NULL,
	`created_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	`last_activity_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	`last_message_id` bigint unsigned NOT NULL DEFAULT 0,
	`last_seq` bigint unsigned NOT NULL DEFAULT 0,
	CONSTRAINT `rooms_id` PRIMARY KEY(`id`),
	CONSTRAINT `rooms_buyer_seller_product_idx` UNIQUE(`buyer_id`,`seller_id`,`product_id`)
);
--> statement-breakpoint
CREATE TABLE `users` (
	`id` varchar(191) NOT NULL,
	`name` varchar(191) NOT NULL,
	`email` varchar(191),
	`created_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	`updated_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `users_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE INDEX `inquiries_status_next_idx` ON `inquiries` (`status`,`next_attempt_at`);--> statement-breakpoint
CREATE INDEX `inquiries_user_idx` ON `inquiries` (`user_id`,`id`);--> statement-breakpoint
CREATE INDEX `messages_room_id_idx` ON `messages` (`room_id`,`id`);--> statement-breakpoint
CREATE INDEX `room_members_user_idx` ON `room_members` (`user_id`,`room_id`);--> statement-breakpoint
CREATE INDEX `users_email_idx` ON `users` (`email`);