"""Tests of commhub.outbound: the address guard and the careful HTTP client."""
