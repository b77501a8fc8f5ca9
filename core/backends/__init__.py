"""Where jobs run. The embedded default trains in threads of the app's own process (core.jobs.JobManager with
core.jobs.local_runner); ray_cluster.py trains on a Ray cluster, for a class bigger than one server. Both are
reached through core.jobs.Jobs, so pages never know which one runs a job."""
