-- Browsers that have signed in to the portal (docs/PORTAL.md, "Sign-in and sessions"): the
-- digest of the browser's device cookie and the email it signed in as. A sign-in attempt
-- from such a browser for that email is counted against the browser's own limit, not the
-- email's, so attempts from elsewhere cannot lock a user out of a browser they have used.
-- An email keeps its newest few (by id).
CREATE TABLE portal_devices (
    id {{id}},
    digest TEXT NOT NULL UNIQUE,
    email TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX portal_devices_email ON portal_devices (email, id);
