"""The bundled sample-data generator (a simulated brand)."""
