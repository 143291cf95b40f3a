-- Rollback for 20261118093000_connection_strict_mode
DROP INDEX IF EXISTS "Connection_strictMode_idx";
ALTER TABLE "Connection" DROP COLUMN "validatedAt";
ALTER TABLE "Connection" DROP COLUMN "strictMode";
