"""Query side: the live dashboard in the browser — auth (signed links, session cookie), data
(the /cx queries as JSON), charts and page (pure SVG/HTML), events (SSE), routes (HTTP)."""
