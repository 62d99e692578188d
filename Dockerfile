# Atlas image: Astro Runtime + the pinned Airflow environment (dbt included) + the Soda side venv.
# Built by `astro dev start` / `astro deploy` or by `docker compose build` (docker-compose.yaml).
#
# Base image. Astro Runtime for Airflow 3 is published as astrocrpublic.azurecr.io/runtime
# (air.astronomer.io/runtime redirects there; the Airflow 2 line was
# quay.io/astronomer/astro-runtime:<major.minor.patch>). Its tags read <A.B>-<N>: A.B is the
# Airflow major.minor it bundles (3.3-N bundles Airflow 3.3.x) and N is Astronomer's patch.
# The -python-3.11 variant matches the Python the lock files are resolved for.
# Keep N on a 3.3 Runtime whose Airflow is the 3.3.2 pinned in requirements.txt (Runtime release
# notes): pip then leaves the bundled Airflow alone; a different patch would be replaced by the
# PyPI build. tests/test_deployment_files.py checks the tag against requirements.txt.
FROM astrocrpublic.azurecr.io/runtime:3.3-2-python-3.11

# The Runtime image's ONBUILD steps already installed packages.txt, installed requirements.txt
# and copied the project (owned by astro:0). The next two steps make the image the same with a
# base image without those steps, and pin every transitive dependency to the lock file.
COPY --chown=astro:0 . .
RUN pip install --no-cache-dir -r requirements.txt -c requirements/airflow.lock

# dbt-core 1.11 is in requirements.txt: Cosmos runs it in-process (InvocationMode.DBT_RUNNER).
# Side venv: soda-core 3.5 must not share Airflow's environment (its pins have broken Airflow
# installs); the Soda tasks call it as a subprocess.
RUN python -m venv /usr/local/airflow/.venv-soda \
    && /usr/local/airflow/.venv-soda/bin/pip install --no-cache-dir -r requirements/soda.lock

# ARROW_DEFAULT_MEMORY_POOL: pyarrow's default pool (mimalloc) keeps what each Parquet row group
# freed; jemalloc gives it back, so an archive stays under 300 MB (bench/bench_archive.py).
ENV ATLAS_SODA_EXECUTABLE=/usr/local/airflow/.venv-soda/bin/soda \
    ARROW_DEFAULT_MEMORY_POOL=jemalloc \
    AIRFLOW__COSMOS__ENABLE_TELEMETRY=False \
    SCARF_ANALYTICS=false \
    DO_NOT_TRACK=1

# dbt manifest, built into the image: DAGs render the dbt project from it (LoadMode.DBT_MANIFEST)
# instead of running `dbt ls` for every DAG at parse time. First the per-source models (dbt
# sources, masked staging models, current-state tables, SCD2 snapshots) are generated from
# include/sources/*.yaml into include/atlas_dbt/{models,snapshots}/generated; a source YAML that
# does not validate fails the build here. `dbt parse` needs no database; the project and its
# profiles.yml (include/atlas_dbt, owned by the dbt part of Atlas) must parse.
RUN PYTHONPATH=plugins python -m atlas.dbt.generate \
    && cd include/atlas_dbt \
    && dbt parse --profiles-dir . --target-path target \
    && cd ../.. && PYTHONPATH=plugins python -m atlas.dbt.manifest split
