"""Staff dashboard: sign-in, the live review queue, review items with evidence and explanations,
live store views and the audit view; Japanese and English. Server-rendered (Jinja2) with htmx
and server-sent events, so it needs no JavaScript build (see README, "Dashboard")."""
