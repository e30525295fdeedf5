"""大模型工程化之路 — the small helper package the lessons import."""
