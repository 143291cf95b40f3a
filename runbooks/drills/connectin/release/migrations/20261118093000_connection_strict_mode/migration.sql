ALTER TABLE "Connection" ADD COLUMN "strictMode" BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE "Connection" ADD COLUMN "validatedAt" DATETIME;
CREATE INDEX "Connection_strictMode_idx" ON "Connection"("strictMode");
