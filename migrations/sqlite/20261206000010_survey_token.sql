-- A ticket's satisfaction survey link: its secret token, found when the
-- customer opens the link (no account). Unique: a token names one ticket.
ALTER TABLE ticket_rows ADD COLUMN survey_token TEXT;
CREATE UNIQUE INDEX ticket_rows_survey_token ON ticket_rows (survey_token);
