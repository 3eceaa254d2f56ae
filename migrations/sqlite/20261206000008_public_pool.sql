-- The public pool (公海): each team's pool is owned by a pseudo-user whose
-- id is the team's own (role `pool`, inactive, no password: it never signs
-- in), so a pooled record keeps an owner and a team like any other and the
-- change log's owner columns carry it in and out of reps' pulls. New teams
-- get theirs when they are made (`accounts::ensure_team`).
INSERT INTO users (id, username, display_name, role, team_id, password_hash, active, created_at)
SELECT t.id, 'pool:' || t.id, '公海', 'pool', t.id, '', 0, 0
FROM teams t
WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = t.id);

-- A daily quota counts a user's accepted commands of the day in the audit
-- trail.
CREATE INDEX audit_log_actor_at ON audit_log (actor_id, at);
