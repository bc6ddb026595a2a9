-- Sentry's plan, for the quota check: errors and transactions a month.
-- NULL is the free plan's (5,000 and 10,000), as seeds 001 and 003 give it.
ALTER TABLE projects ADD COLUMN plan_errors_per_month INTEGER;
ALTER TABLE projects ADD COLUMN plan_transactions_per_month INTEGER;
