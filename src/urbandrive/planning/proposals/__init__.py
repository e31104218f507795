"""Proposal generators: PDM-style tracked IDM paths, a Frenet lattice, emergency stops."""
