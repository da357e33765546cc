"""The one reconcile engine that `beamkube deploy` and the operator both run.

Role: network I/O (through `beamkube.kube.KubeClient`), each step in its own module:

- `server`    know the server: /version once, render for its minor (or --kube-version), refuse below the minimum
- `plan`      the desired objects for that version, split at the migration gate (kinds ranked after Jobs wait)
- `preflight` every API the plan needs is served, the namespace exists, a server-side dry run of the whole plan
- `compare`   desired vs live like the server sees it (canonical quantities, defaults, list-map merge keys)
- `apply`     server-side apply only what differs (pure decisions here, the write through the client)
- `assess`    one readiness rule per kind (observedGeneration, updateRevision, HPA minimum, available)
- `ownership` beamkube's labels, the cookie Secret, what belongs to an app
- `prune`     delete only what this app owns and no longer renders
- `reconcile` the step machine; both edges (ops/ for the CLI, operator/ for the controller) drive it

The edges add only what is theirs: progress lines and exit codes, or status conditions and requeues.
"""
