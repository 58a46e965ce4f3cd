-- The mqsql index: a mirror of the Postfix queue, rebuilt from the spool whenever in doubt.
-- Users and scripts query the views messages and recipients; their names and columns are the
-- interface. The tables behind them also keep what the indexer needs to notice a changed file.

CREATE TABLE queue_files (
	id              INTEGER PRIMARY KEY,
	queue_id        TEXT    NOT NULL,
	queue           TEXT    NOT NULL,  -- incoming, active, deferred, hold, maildrop, corrupt
	arrival_time    INTEGER NOT NULL,  -- unix seconds, as postqueue shows it
	size            INTEGER NOT NULL,  -- postqueue's message_size
	sender          TEXT    NOT NULL,  -- envelope sender as stored; '' = null sender (MAILER-DAEMON)
	forced_expire   INTEGER NOT NULL,  -- 1 after postsuper -e / -f
	recipient_count INTEGER NOT NULL,  -- pending recipients, as postqueue lists them
	next_attempt    INTEGER NOT NULL,  -- file mtime: the next retry time of deferred mail
	subject         TEXT,              -- headers, RFC 2047 decoded; NULL when absent
	from_header     TEXT,
	message_id      TEXT,
	client_address  TEXT,              -- named attributes; NULL when absent
	helo_name       TEXT,
	sasl_username   TEXT,
	file_size       INTEGER NOT NULL,
	inode           INTEGER NOT NULL,
	path            TEXT    NOT NULL UNIQUE, -- relative to the spool
	error           TEXT,              -- NULL when the file was read cleanly
	-- Not shown in messages: what tells the indexer a file or its defer log changed.
	mode            INTEGER NOT NULL,
	mtime_ns        INTEGER NOT NULL,
	log_size        INTEGER NOT NULL DEFAULT -1,
	log_mtime_ns    INTEGER NOT NULL DEFAULT -1
);

CREATE TABLE queue_recipients (
	file_id      INTEGER NOT NULL,  -- queue_files.id
	queue_id     TEXT    NOT NULL,
	address      TEXT    NOT NULL,  -- as the queue file stores it (unquoted)
	orig_address TEXT,
	domain       TEXT    NOT NULL,  -- lower-cased domain of address
	status       TEXT    NOT NULL,  -- pending, done (D record), removed (/ record)
	delay_reason TEXT,              -- from the defer log; NULL when none
	dsn_status   TEXT,
	diag_text    TEXT,
	offset       INTEGER NOT NULL   -- of the recipient record in the queue file
);

CREATE VIEW messages AS
SELECT queue_id, queue, arrival_time, size, sender, forced_expire, recipient_count,
       next_attempt, subject, from_header, message_id, client_address, helo_name,
       sasl_username, file_size, inode, path, error
FROM queue_files;

CREATE VIEW recipients AS
SELECT queue_id, address, orig_address, domain, status, delay_reason, dsn_status, diag_text
FROM queue_recipients;

-- @indexes: built after a bulk load, which is faster than maintaining them row by row.
CREATE INDEX IF NOT EXISTS queue_files_queue_id ON queue_files(queue_id);
CREATE INDEX IF NOT EXISTS queue_files_sender ON queue_files(sender);
CREATE INDEX IF NOT EXISTS queue_files_queue ON queue_files(queue);
CREATE INDEX IF NOT EXISTS queue_files_arrival ON queue_files(arrival_time);
CREATE INDEX IF NOT EXISTS queue_recipients_file ON queue_recipients(file_id);
CREATE INDEX IF NOT EXISTS queue_recipients_queue_id ON queue_recipients(queue_id);
CREATE INDEX IF NOT EXISTS queue_recipients_domain ON queue_recipients(domain);
