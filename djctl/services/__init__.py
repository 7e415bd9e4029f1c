"""Workflows: each opens a unit of work, calls domain and io, and returns plain results."""
