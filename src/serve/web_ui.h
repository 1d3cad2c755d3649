// The web page of `ragft serve` (GET / and GET /ui): one self-contained HTML page (inline CSS
// and JavaScript, no external resource, no build step) over the server's own JSON routes. It
// holds no data, so fetching it needs no key; everything it shows comes from API calls made with
// the key the user enters.
//
// What it does:
//   - API key: a field whose value is kept in the browser's localStorage ("ragft.apiKey") and
//     sent as `Authorization: Bearer <key>` with every call.
//   - Search (POST /v1/search: query, mode, k): ranked hits with their snippets' matches marked.
//   - Ask (POST /v1/ask: question, mode, k, llm): the answer with each [n] citation a button.
//   - Clicking a hit or a citation fetches GET /v1/documents/{id} and shows the document with
//     the cited span [char_start, char_end) in <mark id="doc-span"> (a hit's query matches in
//     <b class="term"> inside it), scrolled into view and focused. The API's offsets count code
//     points; the page converts them to JavaScript's UTF-16 indexes (a character past U+FFFF is
//     two units).
//   - Reports (GET /v1/reports, GET /reports/{name}): the list, and a report opened in an
//     iframe sandboxed without scripts.
//   - Every API error is shown in the role="alert" box (#error) with the OpenAI error message.
//
// State in the URL fragment (so a view can be bookmarked, and tests can drive the page):
//   #search=Q[&mode=M][&k=N][&open=I]       search, then click hit I (1-based)
//   #ask=Q[&mode=M][&k=N][&llm=1][&cite=N]  ask, then click the answer's first [N]
//   #report=NAME  or  #reports[&open=NAME]  the Reports tab, then click report NAME
//   #doc=ID[&start=S&end=E]                 a document, [S, E) marked
//   &key=K with any of them                 saves K as the key and removes it from the address bar
// The page clicks exactly as a user would (a dispatched click event on the element), then sets
// <body data-state="ready"> once everything the fragment asked for has finished (or failed).
//
// Security: every string from the API is inserted as text, never as HTML. A Content-Security-
// Policy <meta> allows only this page's own script (by its SHA-256, computed when the page is
// first served), inline styles, and connections to the server itself.
#pragma once

#include <string>

namespace ragft::serve {

// The page, with its Content-Security-Policy script hash filled in. Built once; thread-safe.
const std::string& web_ui_html();

}  // namespace ragft::serve
