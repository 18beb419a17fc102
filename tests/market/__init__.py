"""Tests of the market library."""
