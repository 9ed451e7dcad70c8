"""The trace viewer: static files only (index.html, ES modules, CSS), shipped as package data so that
`tracehouse serve` finds them with importlib.resources on any install. Nothing here runs in Python; the page
talks to the server only through the public GraphQL API (HTTP and graphql-transport-ws)."""
