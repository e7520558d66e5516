"""Imports run as background jobs (issue 15): the upload is kept as a file, a worker reads it as a stream."""
