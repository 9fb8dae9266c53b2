-- The portal's reports page counts a window's activities by time and type: an index that
-- holds the type answers that from the index alone (it replaces the one without it).
DROP INDEX offer_activities_reported;
CREATE INDEX offer_activities_reported ON offer_activities (account_id, reported_at, activity_type);
-- Activities are counted without joining their credentials, so a deleted credential's
-- activities go with it (they were already left out of every report by that join).
DELETE FROM offer_activities WHERE credential_id IS NULL
    OR NOT EXISTS (SELECT 1 FROM credentials c WHERE c.id = offer_activities.credential_id);
