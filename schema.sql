-- The mqsql index: a mirror of an MTA's queue (Postfix, Sendmail or Exim), rebuilt from the
-- spool whenever in doubt. No rule of one MTA is written here: what differs between them
-- (which queues there are, which files the MTA's own listing shows) is in the rows and in
-- the queues table, which the MTA's driver fills (mqsql.Meaning).
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
	path            TEXT    NOT NULL,  -- relative to the spool; unique (queue_files_path)
	error           TEXT,              -- NULL when the file was read cleanly
	-- Not shown in messages: the message's stamp (mqsql.Stamp), which tells the indexer that
	-- its file, its log or its lock changed. The driver says what each means for its MTA.
	mode            INTEGER NOT NULL,
	mtime_ns        INTEGER NOT NULL,
	log_size        INTEGER NOT NULL DEFAULT -1,  -- -1: no log (mqsql.NoLog)
	log_mtime_ns    INTEGER NOT NULL DEFAULT -1,
	locked          INTEGER NOT NULL DEFAULT 0,   -- 1 while a delivery holds its lock (Exim, Sendmail)
	-- Not shown either: the log_ident attribute (NULL when absent), which pickup keeps in the
	-- new file of requeued or restored mail, so that events can say why that ID arrived.
	log_ident       TEXT,
	-- Shown: what other MTAs keep and Postfix does not; NULL for Postfix.
	hold_reason     TEXT,              -- why a held message is held (Sendmail quarantine, Exim frozen)
	queue_name      TEXT,              -- Exim's named queue, Sendmail's queue group; NULL for the default
	-- Not shown: 1 when the MTA's own listing (postqueue -j, mailq, exim -bp) lists the
	-- message, as its driver says (mqsql.Meaning.Listed); what qshape counts.
	listed          INTEGER NOT NULL DEFAULT 0
);

-- The queues of the MTA whose spool the index mirrors, as its driver declares them: every value
-- queue_files.queue takes there, in the order its own listing shows them, listed = 1 for those
-- whose mail that listing shows (all but corrupt). Written by each load of the index.
CREATE TABLE queues (
	queue    TEXT    PRIMARY KEY,
	position INTEGER NOT NULL,
	listed   INTEGER NOT NULL
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

-- Not part of the interface: the stamps of queue_files packed in a few hundred blobs, which
-- a warm start reads instead of every row (index/stampcache.go). Only a copy: the stamp_cache
-- triggers empty it whenever a queue_files row changes, and the next warm start writes it
-- again.
CREATE TABLE stamp_cache (
	chunk   INTEGER PRIMARY KEY,
	entries BLOB NOT NULL
);

CREATE VIEW messages AS
SELECT queue_id, queue, arrival_time, size, sender, forced_expire, recipient_count,
       next_attempt, subject, from_header, message_id, client_address, helo_name,
       sasl_username, file_size, inode, path, error, hold_reason, queue_name
FROM queue_files;

CREATE VIEW recipients AS
SELECT queue_id, address, orig_address, domain, status, delay_reason, dsn_status, diag_text
FROM queue_recipients;

-- Running totals the metrics endpoint reads, so that a scrape costs the same on any queue:
-- per queue (queue_totals), per queue and arrival second (queue_arrivals) and arrival minute
-- (queue_arrival_minutes), for the age histogram and the oldest message, and the undelivered
-- recipients of deferred mail by domain (deferred_domains) with their sum (deferred_total).
-- The age histogram counts whole minutes, and seconds only in the minute that a bucket bound
-- falls in; the top domains are the first rows of deferred_domains_top. Kept by the triggers
-- of the @summaries part below, rebuilt from the rows whenever those are created; mqsql's
-- own, never shown in messages.
CREATE TABLE queue_totals (
	queue       TEXT    PRIMARY KEY,
	messages    INTEGER NOT NULL,
	recipients  INTEGER NOT NULL,  -- sum of recipient_count
	bytes       INTEGER NOT NULL,  -- sum of size
	arrival_sum INTEGER NOT NULL   -- sum of arrival_time, for the mean age
) WITHOUT ROWID;
CREATE TABLE queue_arrivals (
	queue        TEXT    NOT NULL,
	arrival_time INTEGER NOT NULL,
	messages     INTEGER NOT NULL,
	PRIMARY KEY (queue, arrival_time)
) WITHOUT ROWID;
CREATE TABLE queue_arrival_minutes (
	queue          TEXT    NOT NULL,
	arrival_minute INTEGER NOT NULL,  -- floor(arrival_time / 60): seconds 60m to 60m+59
	messages       INTEGER NOT NULL,
	PRIMARY KEY (queue, arrival_minute)
) WITHOUT ROWID;
CREATE TABLE deferred_domains (
	domain     TEXT    PRIMARY KEY,
	recipients INTEGER NOT NULL    -- pending recipients of files in deferred; 0 rows are kept
) WITHOUT ROWID;
CREATE INDEX deferred_domains_top ON deferred_domains (recipients DESC, domain);
CREATE TABLE deferred_total (
	recipients INTEGER NOT NULL    -- one row: the sum of deferred_domains.recipients
);

-- What the watcher saw move: one row per change of a queue ID (mqsql watch, or a REPL that is
-- open). time is unix seconds with a fraction (REAL), so datetime(time, 'unixepoch') and
-- comparisons with unixepoch() work. Kept for the retention period (default 7 days).
CREATE TABLE events (
	time       REAL    NOT NULL,  -- when the change was first noticed, unix seconds
	queue_id   TEXT    NOT NULL,
	event      TEXT    NOT NULL,  -- arrived, moved, left, changed
	from_queue TEXT,              -- NULL for arrived
	to_queue   TEXT,              -- NULL for left
	sender     TEXT,              -- envelope sender as stored ('' = null sender)
	size       INTEGER,           -- message_size; for left, of the row that left. Both NULL
	                              -- for mail that came and went between two looks
	reason     TEXT,              -- why, when mqsql did it: 'deleted by mqsql', 'held by
	                              -- mqsql', ...; NULL when Postfix (or anyone else) did it
	audit_id   TEXT               -- the audit record of the statement that did it
);

-- Delivery history, from the MTA's mail log (package maillog, through each driver's log
-- parser): what already left, where, and why the rest is stuck. Kept for --history-days
-- (default 7). deliveries: one row per delivery attempt result the MTA logged. time is unix
-- seconds (REAL: fractional where the log has it); status is sent, deferred, bounced or
-- expired; response is the text the MTA logged for it. NULL where the log says nothing
-- (Postfix logs an expiry for the message: its row has no recipient).
CREATE TABLE deliveries (
	time           REAL    NOT NULL,
	queue_id       TEXT    NOT NULL,
	recipient      TEXT,
	orig_recipient TEXT,              -- NULL when absent
	relay          TEXT,
	delay          REAL,              -- seconds
	dsn            TEXT,
	status         TEXT    NOT NULL,  -- sent, deferred, bounced, expired
	response       TEXT,
	host           TEXT,              -- the host the log line names (syslog), NULL when none
	instance       TEXT               -- the MTA instance that logged it (Postfix's syslog_name)
);

-- log_messages: one row per queue ID seen in the log, from the lines about the message as a
-- whole (Postfix's qmgr, smtpd, cleanup, pickup and postsuper; Exim's <= and Completed;
-- Sendmail's from=). removed is when it left the queue, NULL while it is queued (and for
-- Sendmail, which does not log it). sender '' is the null sender; NULL is not logged.
CREATE TABLE log_messages (
	queue_id       TEXT    PRIMARY KEY,
	first_seen     REAL    NOT NULL,
	sender         TEXT,
	size           INTEGER,
	nrcpt          INTEGER,
	client_address TEXT,
	sasl_username  TEXT,
	message_id     TEXT,
	removed        REAL
);

-- Not part of the interface: how far each log file was read, so that the next run (or a
-- restarted watcher) reads on from there, neither twice nor skipping a line. A file is known
-- by a hash of its first line (head), which a rename (rotation) or compression keeps and a
-- truncation (copytruncate) changes; offset is the end of the last complete line read,
-- committed in the transaction of that line's rows.
CREATE TABLE log_positions (
	head       TEXT    PRIMARY KEY,
	path       TEXT    NOT NULL,   -- where it was last read
	offset     INTEGER NOT NULL,   -- bytes of (uncompressed) content read
	lines      INTEGER NOT NULL,
	unreadable INTEGER NOT NULL,   -- lines of the MTA's that did not parse, kept out
	read_at    REAL    NOT NULL
);

-- What mqsql's write statements (and restore) are about to do, so that the watcher can say why
-- the queue IDs it then sees move: one row per planned operation, consumed by the first event
-- of that queue ID (or pruned after ten minutes). A requeue or restore brings the message back
-- under a new queue ID: its row also carries the message's log_ident, which explains the
-- arrival of the new file with that log_ident, and stays until that arrival. mqsql's own; user
-- SQL cannot write it.
CREATE TABLE intents (
	queue_id  TEXT NOT NULL,      -- '' for a restore's, until its copy arrives in maildrop
	reason    TEXT NOT NULL,
	audit_id  TEXT NOT NULL,
	time      REAL NOT NULL,
	log_ident TEXT                -- NULL unless the message comes back under a new queue ID
);
CREATE INDEX intents_queue_id ON intents (queue_id);
CREATE INDEX intents_log_ident ON intents (log_ident) WHERE log_ident IS NOT NULL;

-- qshape: Postfix's qshape(1) as a view. Per queue and recipient domain, the undelivered
-- recipients by the age of their message, in qshape's default buckets: column "5" counts mail
-- younger than 5 minutes, "10" from 5 to 10 minutes, and so on doubling to "1280" (640 to 1280
-- minutes) and "1280+" (older). It counts what qshape counts the way qshape counts it, so
--   SELECT * FROM qshape WHERE queue = 'deferred'
-- shows the figures of `qshape deferred`; the row whose domain is 'TOTAL' is qshape's first
-- line (there is one for each queue the MTA's listing shows, even an empty one, so leave it out
-- when summing). Ages are taken when the query runs. It counts the pending recipients of the
-- messages the MTA's own listing lists (queue_files.listed: on Postfix, qshape's own test of a
-- file: written by cleanup, complete, not expired, named like a queue ID, read to the end), under
-- the domain qshape_domain() gives, so that on every MTA it agrees with that listing.
CREATE VIEW qshape AS
WITH counted AS (
	SELECT f.queue AS queue, qshape_domain(r.address) AS domain,
	       qshape_bucket(now() - f.arrival_time) AS bucket
	FROM queue_files f JOIN queue_recipients r ON r.file_id = f.id
	WHERE r.status = 'pending' AND f.listed
),
shown(queue) AS (SELECT queue FROM queues WHERE listed),
shape AS (
	SELECT q.queue AS queue, 'TOTAL' AS domain, count(c.bucket) AS total,
	       count(*) FILTER (WHERE c.bucket = '5') AS "5", count(*) FILTER (WHERE c.bucket = '10') AS "10",
	       count(*) FILTER (WHERE c.bucket = '20') AS "20", count(*) FILTER (WHERE c.bucket = '40') AS "40",
	       count(*) FILTER (WHERE c.bucket = '80') AS "80", count(*) FILTER (WHERE c.bucket = '160') AS "160",
	       count(*) FILTER (WHERE c.bucket = '320') AS "320", count(*) FILTER (WHERE c.bucket = '640') AS "640",
	       count(*) FILTER (WHERE c.bucket = '1280') AS "1280", count(*) FILTER (WHERE c.bucket = '1280+') AS "1280+"
	FROM shown q LEFT JOIN counted c ON c.queue = q.queue GROUP BY q.queue
	UNION ALL
	SELECT queue, domain, count(*),
	       count(*) FILTER (WHERE bucket = '5'), count(*) FILTER (WHERE bucket = '10'),
	       count(*) FILTER (WHERE bucket = '20'), count(*) FILTER (WHERE bucket = '40'),
	       count(*) FILTER (WHERE bucket = '80'), count(*) FILTER (WHERE bucket = '160'),
	       count(*) FILTER (WHERE bucket = '320'), count(*) FILTER (WHERE bucket = '640'),
	       count(*) FILTER (WHERE bucket = '1280'), count(*) FILTER (WHERE bucket = '1280+')
	FROM counted GROUP BY queue, domain
)
SELECT * FROM shape ORDER BY queue, domain <> 'TOTAL', total DESC, length(domain), domain;

-- qshape_senders: qshape -s as a view, the same counts by sender domain: one per message (the
-- null sender is MAILER-DAEMON), for messages that still have an undelivered R record.
CREATE VIEW qshape_senders AS
WITH counted AS (
	SELECT f.queue AS queue, qshape_domain(f.sender) AS domain,
	       qshape_bucket(now() - f.arrival_time) AS bucket
	FROM queue_files f
	WHERE f.listed
	  AND EXISTS (SELECT 1 FROM queue_recipients r WHERE r.file_id = f.id AND r.status = 'pending')
),
shown(queue) AS (SELECT queue FROM queues WHERE listed),
shape AS (
	SELECT q.queue AS queue, 'TOTAL' AS domain, count(c.bucket) AS total,
	       count(*) FILTER (WHERE c.bucket = '5') AS "5", count(*) FILTER (WHERE c.bucket = '10') AS "10",
	       count(*) FILTER (WHERE c.bucket = '20') AS "20", count(*) FILTER (WHERE c.bucket = '40') AS "40",
	       count(*) FILTER (WHERE c.bucket = '80') AS "80", count(*) FILTER (WHERE c.bucket = '160') AS "160",
	       count(*) FILTER (WHERE c.bucket = '320') AS "320", count(*) FILTER (WHERE c.bucket = '640') AS "640",
	       count(*) FILTER (WHERE c.bucket = '1280') AS "1280", count(*) FILTER (WHERE c.bucket = '1280+') AS "1280+"
	FROM shown q LEFT JOIN counted c ON c.queue = q.queue GROUP BY q.queue
	UNION ALL
	SELECT queue, domain, count(*),
	       count(*) FILTER (WHERE bucket = '5'), count(*) FILTER (WHERE bucket = '10'),
	       count(*) FILTER (WHERE bucket = '20'), count(*) FILTER (WHERE bucket = '40'),
	       count(*) FILTER (WHERE bucket = '80'), count(*) FILTER (WHERE bucket = '160'),
	       count(*) FILTER (WHERE bucket = '320'), count(*) FILTER (WHERE bucket = '640'),
	       count(*) FILTER (WHERE bucket = '1280'), count(*) FILTER (WHERE bucket = '1280+')
	FROM counted GROUP BY queue, domain
)
SELECT * FROM shape ORDER BY queue, domain <> 'TOTAL', total DESC, length(domain), domain;

-- reasons: why mail is stuck. One row per delay reason of the defer logs, with the messages
-- and the undelivered recipients it holds up, over how many recipient domains, and the
-- arrival time (unix seconds) of the oldest of those messages. Most held up first.
CREATE VIEW reasons AS
SELECT r.delay_reason AS reason, count(DISTINCT r.file_id) AS messages, count(*) AS recipients,
       count(DISTINCT r.domain) AS domains, min(f.arrival_time) AS oldest
FROM queue_recipients r JOIN queue_files f ON f.id = r.file_id
WHERE r.status = 'pending' AND r.delay_reason IS NOT NULL
GROUP BY r.delay_reason
ORDER BY recipients DESC, messages DESC, reason;

-- senders: who fills the queue. One row per envelope sender ('' is the null sender) with its
-- messages, their undelivered recipients, their bytes (message_size) and the arrival time
-- (unix seconds) of the oldest. Files in corrupt/ are not mail and are left out. Biggest first.
CREATE VIEW senders AS
SELECT sender, count(*) AS messages, sum(recipient_count) AS recipients, sum(size) AS bytes,
       min(arrival_time) AS oldest
FROM queue_files
WHERE queue <> 'corrupt'
GROUP BY sender
ORDER BY messages DESC, bytes DESC, sender;

-- timeline: a message's history as the log tells it, one row per event in order: received
-- (detail: the sender, size, client and SASL login), each delivery attempt's result (sent,
-- deferred, bounced, expired, with its recipient, relay, dsn and response), removed.
--   SELECT * FROM timeline WHERE queue_id = '4jjygL3Vh3z5cZK'
CREATE VIEW timeline AS
SELECT queue_id, time, event, recipient, relay, dsn, detail FROM (
	SELECT queue_id, first_seen AS time, 0 AS rank, 'received' AS event, NULL AS recipient, NULL AS relay,
	       NULL AS dsn, concat_ws(', ', 'from=<' || sender || '>', 'size=' || size, 'nrcpt=' || nrcpt,
	       'client=' || client_address, 'sasl_username=' || sasl_username, 'message-id=' || message_id) AS detail
	FROM log_messages
	UNION ALL
	SELECT queue_id, time, 1, status, recipient, relay, dsn, response FROM deliveries
	UNION ALL
	SELECT queue_id, removed, 2, 'removed', NULL, NULL, NULL, NULL FROM log_messages WHERE removed IS NOT NULL
)
ORDER BY queue_id, time, rank;

-- delivered: what went out, per minute, envelope sender, SASL login and recipient domain:
-- messages and recipients delivered (status sent), the relays they went to, and the first
-- and last delivery's time. minute is unix seconds at the minute's start, so a window is
-- "minute >= now() - 3600" (the last hour, to the minute); the sender and login are the
-- log's (log_messages), NULL when the log did not say. A recipient logged as a local part
-- alone (Exim's "=> a <a@local.test>") counts under its original address's domain.
CREATE VIEW delivered AS
SELECT CAST(d.time / 60 AS INTEGER) * 60 AS minute, m.sender AS sender, m.sasl_username AS sasl_username,
       lower(substr(d.address, instr(d.address, '@') + 1)) AS domain,
       count(DISTINCT d.queue_id) AS messages, count(*) AS recipients,
       group_concat(DISTINCT d.relay) AS relays, min(d.time) AS first, max(d.time) AS last
FROM (SELECT time, queue_id, relay,
             iif(instr(recipient, '@') > 0, recipient, coalesce(orig_recipient, recipient)) AS address
      FROM deliveries WHERE status = 'sent') d
LEFT JOIN log_messages m ON m.queue_id = d.queue_id
GROUP BY 1, 2, 3, 4
ORDER BY minute, recipients DESC;

-- @indexes: built after a bulk load, which is faster than maintaining them row by row.
CREATE UNIQUE INDEX IF NOT EXISTS queue_files_path ON queue_files(path);
CREATE INDEX IF NOT EXISTS queue_files_queue_id ON queue_files(queue_id);
CREATE INDEX IF NOT EXISTS queue_files_sender ON queue_files(sender);
CREATE INDEX IF NOT EXISTS queue_files_queue ON queue_files(queue);
CREATE INDEX IF NOT EXISTS queue_files_arrival ON queue_files(arrival_time);
CREATE INDEX IF NOT EXISTS queue_recipients_file ON queue_recipients(file_id);
CREATE INDEX IF NOT EXISTS queue_recipients_queue_id ON queue_recipients(queue_id);
CREATE INDEX IF NOT EXISTS queue_recipients_domain ON queue_recipients(domain);
CREATE INDEX IF NOT EXISTS events_time ON events(time);
CREATE INDEX IF NOT EXISTS events_queue_id ON events(queue_id);
CREATE INDEX IF NOT EXISTS deliveries_time ON deliveries(time);
CREATE INDEX IF NOT EXISTS deliveries_queue_id ON deliveries(queue_id);
CREATE INDEX IF NOT EXISTS log_messages_sasl ON log_messages(sasl_username) WHERE sasl_username IS NOT NULL;
CREATE INDEX IF NOT EXISTS log_messages_sender ON log_messages(sender);
-- The stamp cache's triggers, created with the indexes so that a full load does not run them.
CREATE TRIGGER IF NOT EXISTS stamp_cache_file_in AFTER INSERT ON queue_files
WHEN EXISTS (SELECT 1 FROM stamp_cache) BEGIN DELETE FROM stamp_cache; END;
CREATE TRIGGER IF NOT EXISTS stamp_cache_file_out AFTER DELETE ON queue_files
WHEN EXISTS (SELECT 1 FROM stamp_cache) BEGIN DELETE FROM stamp_cache; END;
CREATE TRIGGER IF NOT EXISTS stamp_cache_file_change AFTER UPDATE ON queue_files
WHEN EXISTS (SELECT 1 FROM stamp_cache) BEGIN DELETE FROM stamp_cache; END;

-- @summaries: the running totals' triggers, created after a bulk load (which is faster without
-- them) together with the totals of the rows loaded. Executed only when the triggers are
-- missing; a full load drops them first.
DELETE FROM queue_totals;
DELETE FROM queue_arrivals;
DELETE FROM queue_arrival_minutes;
DELETE FROM deferred_domains;
DELETE FROM deferred_total;
INSERT INTO queue_totals
SELECT queue, count(*), sum(recipient_count), sum(size), sum(arrival_time) FROM queue_files GROUP BY queue;
INSERT INTO queue_arrivals
SELECT queue, arrival_time, count(*) FROM queue_files GROUP BY queue, arrival_time;
-- x / 60 - (x % 60 < 0) is floor(x / 60) for any integer x (/ truncates toward zero).
INSERT INTO queue_arrival_minutes
SELECT queue, arrival_time / 60 - (arrival_time % 60 < 0), sum(messages) FROM queue_arrivals GROUP BY 1, 2;
INSERT INTO deferred_domains
SELECT r.domain, count(*) FROM queue_recipients r JOIN queue_files f ON f.id = r.file_id
WHERE f.queue = 'deferred' AND r.status = 'pending' GROUP BY r.domain;
INSERT INTO deferred_total SELECT coalesce(sum(recipients), 0) FROM deferred_domains;

CREATE TRIGGER summary_file_in AFTER INSERT ON queue_files BEGIN
	INSERT INTO queue_totals VALUES (NEW.queue, 1, NEW.recipient_count, NEW.size, NEW.arrival_time)
	ON CONFLICT (queue) DO UPDATE SET messages = messages + 1, recipients = recipients + excluded.recipients,
		bytes = bytes + excluded.bytes, arrival_sum = arrival_sum + excluded.arrival_sum;
	INSERT INTO queue_arrivals VALUES (NEW.queue, NEW.arrival_time, 1)
	ON CONFLICT (queue, arrival_time) DO UPDATE SET messages = messages + 1;
	INSERT INTO queue_arrival_minutes VALUES (NEW.queue, NEW.arrival_time / 60 - (NEW.arrival_time % 60 < 0), 1)
	ON CONFLICT (queue, arrival_minute) DO UPDATE SET messages = messages + 1;
END;

CREATE TRIGGER summary_file_out AFTER DELETE ON queue_files BEGIN
	UPDATE queue_totals SET messages = messages - 1, recipients = recipients - OLD.recipient_count,
		bytes = bytes - OLD.size, arrival_sum = arrival_sum - OLD.arrival_time
	WHERE queue = OLD.queue;
	UPDATE queue_arrivals SET messages = messages - 1 WHERE queue = OLD.queue AND arrival_time = OLD.arrival_time;
	DELETE FROM queue_arrivals WHERE queue = OLD.queue AND arrival_time = OLD.arrival_time AND messages <= 0;
	UPDATE queue_arrival_minutes SET messages = messages - 1
	WHERE queue = OLD.queue AND arrival_minute = OLD.arrival_time / 60 - (OLD.arrival_time % 60 < 0);
	DELETE FROM queue_arrival_minutes
	WHERE queue = OLD.queue AND arrival_minute = OLD.arrival_time / 60 - (OLD.arrival_time % 60 < 0) AND messages <= 0;
END;

CREATE TRIGGER summary_file_change AFTER UPDATE OF queue, recipient_count, size, arrival_time ON queue_files
WHEN OLD.queue IS NOT NEW.queue OR OLD.recipient_count IS NOT NEW.recipient_count
	OR OLD.size IS NOT NEW.size OR OLD.arrival_time IS NOT NEW.arrival_time BEGIN
	UPDATE queue_totals SET messages = messages - 1, recipients = recipients - OLD.recipient_count,
		bytes = bytes - OLD.size, arrival_sum = arrival_sum - OLD.arrival_time
	WHERE queue = OLD.queue;
	UPDATE queue_arrivals SET messages = messages - 1 WHERE queue = OLD.queue AND arrival_time = OLD.arrival_time;
	DELETE FROM queue_arrivals WHERE queue = OLD.queue AND arrival_time = OLD.arrival_time AND messages <= 0;
	UPDATE queue_arrival_minutes SET messages = messages - 1
	WHERE queue = OLD.queue AND arrival_minute = OLD.arrival_time / 60 - (OLD.arrival_time % 60 < 0);
	DELETE FROM queue_arrival_minutes
	WHERE queue = OLD.queue AND arrival_minute = OLD.arrival_time / 60 - (OLD.arrival_time % 60 < 0) AND messages <= 0;
	INSERT INTO queue_totals VALUES (NEW.queue, 1, NEW.recipient_count, NEW.size, NEW.arrival_time)
	ON CONFLICT (queue) DO UPDATE SET messages = messages + 1, recipients = recipients + excluded.recipients,
		bytes = bytes + excluded.bytes, arrival_sum = arrival_sum + excluded.arrival_sum;
	INSERT INTO queue_arrivals VALUES (NEW.queue, NEW.arrival_time, 1)
	ON CONFLICT (queue, arrival_time) DO UPDATE SET messages = messages + 1;
	INSERT INTO queue_arrival_minutes VALUES (NEW.queue, NEW.arrival_time / 60 - (NEW.arrival_time % 60 < 0), 1)
	ON CONFLICT (queue, arrival_minute) DO UPDATE SET messages = messages + 1;
END;

CREATE TRIGGER summary_file_move AFTER UPDATE OF queue ON queue_files
WHEN OLD.queue IS NOT NEW.queue AND 'deferred' IN (OLD.queue, NEW.queue) BEGIN
	INSERT INTO deferred_domains
	SELECT domain, iif(NEW.queue = 'deferred', count(*), -count(*)) FROM queue_recipients
	WHERE file_id = NEW.id AND status = 'pending' GROUP BY domain
	ON CONFLICT (domain) DO UPDATE SET recipients = recipients + excluded.recipients;
	UPDATE deferred_total SET recipients = recipients + (SELECT iif(NEW.queue = 'deferred', count(*), -count(*))
		FROM queue_recipients WHERE file_id = NEW.id AND status = 'pending');
END;

CREATE TRIGGER summary_recipient_in AFTER INSERT ON queue_recipients
WHEN NEW.status = 'pending' AND (SELECT queue FROM queue_files WHERE id = NEW.file_id) = 'deferred' BEGIN
	INSERT INTO deferred_domains VALUES (NEW.domain, 1)
	ON CONFLICT (domain) DO UPDATE SET recipients = recipients + 1;
	UPDATE deferred_total SET recipients = recipients + 1;
END;

CREATE TRIGGER summary_recipient_out AFTER DELETE ON queue_recipients
WHEN OLD.status = 'pending' AND (SELECT queue FROM queue_files WHERE id = OLD.file_id) = 'deferred' BEGIN
	UPDATE deferred_domains SET recipients = recipients - 1 WHERE domain = OLD.domain;
	UPDATE deferred_total SET recipients = recipients - 1;
END;

CREATE TRIGGER summary_recipient_change AFTER UPDATE OF status, domain, file_id ON queue_recipients BEGIN
	UPDATE deferred_domains SET recipients = recipients - 1 WHERE domain = OLD.domain
		AND OLD.status = 'pending' AND (SELECT queue FROM queue_files WHERE id = OLD.file_id) = 'deferred';
	INSERT INTO deferred_domains
	SELECT NEW.domain, 1 WHERE NEW.status = 'pending' AND (SELECT queue FROM queue_files WHERE id = NEW.file_id) = 'deferred'
	ON CONFLICT (domain) DO UPDATE SET recipients = recipients + 1;
	UPDATE deferred_total SET recipients = recipients
		- (OLD.status = 'pending' AND (SELECT queue FROM queue_files WHERE id = OLD.file_id) IS 'deferred')
		+ (NEW.status = 'pending' AND (SELECT queue FROM queue_files WHERE id = NEW.file_id) IS 'deferred')
	WHERE OLD.status IS NOT NEW.status OR OLD.file_id IS NOT NEW.file_id;
END;
