DROP TABLE "Connection";
DROP TABLE "User";
