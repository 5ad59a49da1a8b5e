"""A local stand-in for Klaviyo's REST API (revision 2026-07-15): a real HTTP server with
accounts, scoped keys, Klaviyo's checks and errors, rate limits, fault injection and inspection.

Start it with `python manage.py klaviyo_sandbox --port N` or
`python -m sandboxes.klaviyo --port N`; drive it with `admin.SandboxAdmin`.
See docs/sandbox.md.
"""
