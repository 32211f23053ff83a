-- The ledger's own database and role, beside Temporal's (run once by the postgres image at first start).
CREATE ROLE quartermaster LOGIN PASSWORD 'quartermaster';
CREATE DATABASE quartermaster OWNER quartermaster;
