// Package ircfmt converts message text between IRC and Matrix.
//
// IRC text carries mIRC formatting control codes (bold \x02, italic \x1d,
// underline \x1f, strikethrough \x1e, monospace \x11, colour \x03 and hex
// colour \x04, reverse \x16, reset \x0f) and travels in lines of at most 512
// bytes. Matrix text is a plain body plus an HTML formatted_body in the
// subset the Matrix specification recommends. [ToMatrix] and [FromMatrix]
// convert one way each; [Split] cuts IRC text into payloads that fit a line,
// carrying formatting across the cuts; [Clean] makes text safe as a single
// IRC parameter; [Correction] renders a Matrix edit the way IRC users write
// one; [LeadingMention] recognises the IRC "nick: text" habit.
//
// Everything here is a pure function of its arguments: no I/O, no state, no
// logging, safe for concurrent use. Every function accepts hostile input
// (invalid UTF-8, thousands of codes, deeply nested HTML) and stays linear in
// its size.
//
// Two rules the whole package follows, because IRC clients do:
//
//   - Formatting ends with the line. A '\n' resets bold, colour and the rest,
//     in [ToMatrix] and in [Split] alike; [FromMatrix] re-opens what a new line
//     needs at its start.
//   - Text from Matrix is text. Control characters in it, mIRC codes included,
//     are removed, so a Matrix user cannot smuggle formatting or protocol
//     lines to IRC; formatting reaches IRC only from HTML markup.
//
// This package imports the standard library and golang.org/x/net/html only.
// It must import nothing from switchboard: the IRC connector imports it, not
// the other way round, and it stays usable (and testable) on its own.
package ircfmt
