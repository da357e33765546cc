"""Jobs (run once per release, e.g. Ecto migrations) and CronJobs running release commands.

Role: pure (no I/O). A Job's pod template is immutable, so its name carries a digest of the template: a new
image makes a new Job, and an unchanged spec re-applies the same one. No ttlSecondsAfterFinished: a GitOps
tool (or `kubectl apply`) would re-create a Job the cluster deleted and run the migration again; the finished
Job stays until the next release replaces it (deploy and the operator prune the old one).
"""

from __future__ import annotations

from typing import Any

from beamkube.render.beam import VM_ARGS_FILE, beam_env, secret_env, vm_args
from beamkube.render.extras import (
    env_from_sources,
    image_pull_secrets,
    node_affinity,
    pod_side_containers,
    tolerations,
)
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
from beamkube.spec.model import JOB_DIGEST_LEN, AppSpec, Job


def job_command(spec: AppSpec, job: Job) -> list[str]:
    if job.command is not None:
        return list(job.command)
    assert job.eval is not None
    return [release_command(spec)[0], "eval", job.eval]


def _pod_template(spec: AppSpec, names: Names, job: Job, kube_version: tuple[int, int]) -> dict[str, Any]:
    mounts = [m for m in volume_mounts(spec) if m["name"] != "data"]
    env = beam_env(spec, names, distributed=False)
    env += [{"name": k, "value": v} for k, v in sorted(job.env.items())]
    env += secret_env(job.secretEnv)
    container: dict[str, Any] = {
        "name": "job",
        "image": spec.image,
        "imagePullPolicy": spec.imagePullPolicy,
        "command": job_command(spec, job),
        "env": env,
    }
    env_from = [{"configMapRef": {"name": names.env_config_map}}] if spec.env else []
    env_from += env_from_sources(spec.envFrom)
    if env_from:
        container["envFrom"] = env_from
    job_spec = job_view(spec, job)
    container.update(
        {
            "resources": resources(job_spec),
            "securityContext": container_security(),
            "terminationMessagePolicy": "FallbackToLogsOnError",
            "volumeMounts": mounts,
        }
    )
    labels = {**common_labels(spec), **selector_labels(spec, f"job-{job.name}")}
    body: dict[str, Any] = {}
    nodes = node_affinity(spec)
    if nodes is not None:
        body["affinity"] = {"nodeAffinity": nodes}
    body["automountServiceAccountToken"] = False
    body["containers"] = [container]
    body["enableServiceLinks"] = False
    if spec.imagePullSecrets:
        body["imagePullSecrets"] = image_pull_secrets(spec)
    init, _ = pod_side_containers(spec, kube_version, for_job=True)
    if init:
        body["initContainers"] = init
    if spec.placement.nodeSelector:
        body["nodeSelector"] = dict(sorted(spec.placement.nodeSelector.items()))
    body.update(
        {
            "restartPolicy": "Never",
            "securityContext": pod_security(spec),
            "serviceAccountName": names.service_account,
        }
    )
    if spec.placement.tolerations:
        body["tolerations"] = tolerations(spec)
    body["volumes"] = volumes(spec, names, None if job.resources is None else job_vm_args_key(spec, job))
    return {"metadata": {"labels": dict(sorted(labels.items()))}, "spec": body}


def job_view(spec: AppSpec, job: Job) -> AppSpec:
    """The spec as the Job's pod sees it: its own resources, if it has them."""
    return spec if job.resources is None else spec.model_copy(update={"resources": job.resources})


def job_vm_args_key(spec: AppSpec, job: Job) -> str:
    return f"job-{job.name}.{VM_ARGS_FILE[spec.release.flavour]}"


def job_vm_args(spec: AppSpec, names: Names) -> dict[str, str]:
    """vm.args of the Jobs with their own resources (+S follows their CPU limit), by ConfigMap key."""
    return {job_vm_args_key(spec, job): vm_args(job_view(spec, job), names) for job in spec.jobs if job.resources}


def job_objects(spec: AppSpec, names: Names, kube_version: tuple[int, int]) -> list[dict[str, Any]]:
    objects = []
    for job in spec.jobs:
        template = _pod_template(spec, names, job, kube_version)
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
        digest = config_hash(template)[:JOB_DIGEST_LEN]
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
