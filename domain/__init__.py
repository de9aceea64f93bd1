"""Atelier's domain: aggregates, their events and pure rules; limits and time come as arguments."""
