// Package spoolgen writes synthetic Postfix 3.7 mail queues: queue files byte-exact to the
// format cleanup(8) writes (C record first, T, A create_time, envelope, content, extracted
// segment, E) and defer logs whose offset= fields point at the recipient records, under the
// hashed paths and with the inode-encoding queue IDs Postfix itself uses. mqsql is needed most
// on queues of hundreds of thousands of messages, which no test can make Postfix accept in
// reasonable time; spoolgen makes such queues in minutes, realistic enough (Zipf-like senders,
// several recipients, sizes from 1 KB to megabytes, held mail, bounces, long and short IDs) that
// benchmarks on them mean something, and valid enough that postcat and postqueue read them.
//
// Generate writes a whole spool; Encode and DeferLog give the bytes of one message, for tests.
package spoolgen
