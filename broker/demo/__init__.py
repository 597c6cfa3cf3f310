"""`poise demo`: the whole system on one machine (broker, collector, dashboard, desks)."""
