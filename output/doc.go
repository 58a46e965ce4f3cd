// Package output renders query results for people and for programs, in the formats a mail
// admin knows from sqlite3 and psql: table, csv, tsv, json, jsonl, line, markdown and list.
//
// Values arrive as database/sql with modernc.org/sqlite returns them: int64, float64,
// string, []byte, bool, time.Time and nil. A Renderer takes one result set at a time and
// may be given the next one after End. The formats that can stream (csv, tsv, json, jsonl,
// line, list) write as rows come, so memory stays flat for any number of rows; table and
// markdown keep the rows of the current result set until End, because a column's width is
// only known once its last cell has been seen.
//
// # Escaping contract
//
// Queue data is written by strangers: a spammer's Subject can carry terminal escape
// sequences that clear the screen, retitle the window or fake a prompt, and bidi controls
// that make "gnp.exe" read as "exe.png". Options.Escape is what keeps such bytes off a
// terminal, and the caller must set it:
//
//   - always for the formats meant for people (Format.Human reports them: table, line,
//     markdown, list);
//   - for every format when standard output is a terminal.
//
// With Escape false, csv and list write values byte for byte, so a pipe or a file gets
// exactly what the index holds; tsv still applies its own escaping (below).
//
// When Escape is true, every character below is replaced by a visible escape and never
// written raw, in values and in column names alike:
//
//   - newline, tab and carriage return become the two characters \n, \t and \r;
//   - other C0 controls (U+0000–U+001F) and DEL (U+007F) become \xHH, e.g. \x1b for ESC;
//   - bytes that are not valid UTF-8 become \xHH, one per byte, e.g. \xff;
//   - C1 controls (U+0080–U+009F, among them the one-rune CSI U+009B) become \u00HH;
//   - invisible characters that can hide or reorder what is shown become \uHHHH, or
//     \UHHHHHHHH above U+FFFF: every format character (Unicode category Cf: the bidi
//     embeddings, overrides and isolates U+202A–U+202E and U+2066–U+2069, the marks
//     U+200E, U+200F and U+061C, zero width space, joiner and non-joiner U+200B–U+200D,
//     word joiner U+2060, soft hyphen U+00AD, BOM U+FEFF, the tag characters
//     U+E0000–U+E007F, …), the line and paragraph separators U+2028 and U+2029, and the
//     other default-ignorable code points (combining grapheme joiner U+034F, the Hangul
//     fillers U+115F, U+1160, U+3164 and U+FFA0, …).
//
// Variation selectors are kept, because emoji need them and they only choose how the
// character before them is drawn. Zero width joiners are escaped even though emoji
// sequences (man, ZWJ, woman, ZWJ, girl for a family) use them: in mail, a joiner between
// letters is a filter-evasion trick, and an admin should see it.
//
// A literal backslash is written as it is, so the output of an escaped value cannot always
// be told apart from a value that contained the escape's text ("\x1b" typed as four
// characters). That is the price of keeping ordinary paths and regexps readable; tsv and
// markdown, which double backslashes for their own reasons, are unambiguous. Use json when
// a value must be recovered exactly.
//
// Options.NullValue and Options.Separator are the caller's own text and are written as they
// are, never escaped.
//
// # Formats
//
//   - table: a box drawn like sqlite3's ".mode box"; numbers right-aligned, other values
//     left-aligned, column names centred. Widths are measured in terminal cells (East Asian
//     wide characters and emoji take two), with ambiguous-width characters counted as one
//     cell whatever the locale, so the same data gives the same table everywhere. With
//     Options.Width > 0 the widest columns are narrowed until the table fits and their cells
//     are cut with "…", so every row stays on one line; text columns give way first, and
//     columns holding only numbers are cut only when the text columns are down to six
//     cells, since a cut number misleads where the start of a Subject still informs. Newlines, carriage returns and tabs
//     are always shown as \n, \r and \t, even with Escape false, since they would break the
//     box. A result set with no rows still gets its header box, as in sqlite3 3.54.
//   - markdown: a GitHub table. "|" in a value is written "\|" and "\" as "\\", so the cell
//     cannot end early and renders as the value; with Escape false a newline becomes "<br>"
//     (a CR LF pair or lone CR too), with Escape true it becomes \n like in the other modes
//     meant for people. Other markdown and HTML syntax in values is not escaped.
//   - csv: RFC 4180 through encoding/csv, LF line endings.
//   - tsv: tab-separated, one row per line. In values and column names, backslash, tab,
//     newline and carriage return are written \\, \t, \n and \r (PostgreSQL's COPY text
//     conventions), whatever Escape says, so a row never spans lines and the text can be
//     decoded back exactly.
//   - json: one array of objects per result set, keys in column order, one object per
//     line, "[]" for no rows. Integers are exact; reals are written as in the text formats
//     (below), so a real never looks like an integer, and ±Inf as ±9e999 and NaN as null,
//     as SQLite's json functions do. NULL is null; bool is true or false; a time.Time is a
//     string in the layout of the text formats. Strings
//     follow JSON rules and, whatever Escape says, every control, C1 and invisible
//     character listed above is written as a \u escape (lossless: a JSON reader gets the
//     same string back); invalid UTF-8 in a string becomes U+FFFD, as encoding/json does.
//     A []byte that is valid UTF-8 is a JSON string, any other []byte is its standard
//     base64 (the encoding/json convention), so binary data is never lost or mangled; use
//     hex() in SQL for an unambiguous form. Headers and NullValue do not apply. Duplicate
//     column names give duplicate keys, as in sqlite3.
//   - jsonl: the same objects, one per line, with no enclosing array.
//   - line: one "name = value" line per column, names right-aligned, a blank line between
//     rows and between result sets, like sqlite3's ".mode line" and psql's \x.
//   - list: values joined by Options.Separator ("|" when empty), as sqlite3's default mode;
//     the separator is not escaped inside values, as in sqlite3.
//
// Options.Headers controls the header row of csv, tsv and list, which is written even for a
// result set with no rows, so a script always finds the column names. Table and markdown
// always have a header, as in sqlite3: a markdown table cannot exist without one and a box
// without names is not readable.
//
// In the text formats an int64 is written in decimal; a float64 as sqlite3 writes a REAL,
// always with a decimal point and in exponent form below 1e-4 and from 1e15 up (1.0, 0.5,
// 1.0e+20, 2.5e-07), but with the fewest digits that read back to the same float64 instead
// of sqlite3's fixed 15, so an export loses nothing (0.30000000000000004, where sqlite3
// shows 0.3), and Inf, -Inf and NaN spelled so; a bool as 1 or 0, as SQLite stores it; a
// []byte as its bytes; and a time.Time in the layout modernc.org/sqlite writes,
// "2006-01-02 15:04:05.999999999-07:00". Values thus look as they do in sqlite3 on the same
// index.
package output
