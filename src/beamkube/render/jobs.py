"""Jobs (run once per release, e.g. Ecto migrations) and CronJobs running release commands.

Role: pure (no I/O). A Job's pod template is immutable, so its name carries a digest of the template: a new
image makes a new Job, and an unchanged spec re-applies the same one. No ttlSecondsAfterFinished: a GitOps
tool (or `kubectl apply`) would re-create a Job the cluster deleted and run the migration again; the finished
Job stays until the next release replaces it (deploy and the operator prune the old one).
"""

from __future__ import annotations

from typing import Any

from beamkube.render.beam import beam_env
from beamkube.render.names import Names, common_labels, metadata, selector_labels
from beamkube.render.pod import (
    config_hash,
    container_security,
    pod_security,
    release_command,
    resources,
    volume_mounts,
    volumes,
)
from beamkube.spec.model import AppSpec, Job


def job_command(spec: AppSpec, job: Job) -> list[str]:
    if job.command is not None:
        return list(job.command)
    assert job.eval is not None
    return [release_command(spec)[0], "eval", job.eval]


def _pod_template(spec: AppSpec, names: Names, job: Job) -> dict[str, Any]:
    mounts = [m for m in volume_mounts(spec) if m["name"] != "data"]
    container: dict[str, Any] = {
        "name": "job",
        "image": spec.image,
        "imagePullPolicy": spec.imagePullPolicy,
        "command": job_command(spec, job),
        "env": beam_env(spec, names, distributed=False),
    }
    if spec.env:
        container["envFrom"] = [{"configMapRef": {"name": names.env_config_map}}]
    container.update(
        {
            "resources": resources(spec),
            "securityContext": container_security(),
            "terminationMessagePolicy": "FallbackToLogsOnError",
            "volumeMounts": mounts,
        }
    )
    labels = {**common_labels(spec), **selector_labels(spec, f"job-{job.name}")}
    return {
        "metadata": {"labels": dict(sorted(labels.items()))},
        "spec": {
            "automountServiceAccountToken": False,
            "containers": [container],
            "enableServiceLinks": False,
            "restartPolicy": "Never",
            "securityContext": pod_security(spec),
            "serviceAccountName": names.service_account,
            "volumes": volumes(spec, names),
        },
    }


def job_objects(spec: AppSpec, names: Names) -> list[dict[str, Any]]:
    objects = []
    for job in spec.jobs:
        template = _pod_template(spec, names, job)
        if job.schedule is not None:
            objects.append(
                {
                    "apiVersion": "batch/v1",
                    "kind": "CronJob",
                    "metadata": metadata(spec, f"{spec.name}-{job.name}", f"job-{job.name}"),
                    "spec": {
                        "concurrencyPolicy": job.concurrencyPolicy,
                        "failedJobsHistoryLimit": 1,
                        "jobTemplate": {
                            "spec": {
                                "activeDeadlineSeconds": job.activeDeadlineSeconds,
                                "backoffLimit": job.backoffLimit,
                                "template": template,
                            }
                        },
                        "schedule": job.schedule,
                        "startingDeadlineSeconds": 300,
                        "successfulJobsHistoryLimit": 3,
                    },
                }
            )
            continue
        digest = config_hash(template)[:8]
        objects.append(
            {
                "apiVersion": "batch/v1",
                "kind": "Job",
                "metadata": metadata(spec, f"{spec.name}-{job.name}-{digest}", f"job-{job.name}"),
                "spec": {
                    "activeDeadlineSeconds": job.activeDeadlineSeconds,
                    "backoffLimit": job.backoffLimit,
                    "template": template,
                },
            }
        )
    return objects
