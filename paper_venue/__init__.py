"""The paper venue: an exchange simulator that speaks Limitless (and a paper-only native API).

A program of its own (`python -m agents.venue`, or `python -m paper_venue`), standing for an outside
system: nothing in the runtime (academy, agents, monitoring, approvals) imports it. Its tests and
benches do, and so do the deploy gate's sandbox and `python -m agents.venue` (the launcher).
"""
