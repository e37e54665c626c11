"""Small private helpers shared by every tier: argument checks, dates, atomic files, JSON."""
