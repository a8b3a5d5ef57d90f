"""Tests of the JSON API's registry resources."""
