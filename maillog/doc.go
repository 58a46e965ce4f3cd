// Package maillog reads an MTA's mail log into the index's history tables (deliveries,
// log_messages): it finds the files, reads each from where the last run stopped, hands every
// line to the driver's mqsql.LogParser and writes the records in batches, each batch in one
// transaction with the file's new position, so that an interrupted or repeated run neither
// loses nor doubles a line. What a line means is the driver's; this package knows files,
// positions, batches and retention.
package maillog
