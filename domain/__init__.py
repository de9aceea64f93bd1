"""Atelier's domain: aggregates, their events and the pure rules of a generation submission.

Nothing here performs I/O or reads settings: limits and the clock come in as arguments.
"""
