-- Reports read the account's rows in a window of time or business dates.
CREATE INDEX offer_activities_reported ON offer_activities (account_id, reported_at);
CREATE INDEX offer_activities_processed ON offer_activities (account_id, processed_at);
CREATE INDEX redemptions_redeemed ON redemptions (account_id, redeemed_at);
CREATE INDEX redemptions_business_date ON redemptions (account_id, business_date);
CREATE INDEX impressions_created ON impressions (account_id, created_at);
