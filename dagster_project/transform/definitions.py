"""Transform's part of the code location: the dbt project's models (tests become checks)."""

import dagster as dg

from dagster_project.transform.assets import dbt_models, project
from dagster_project.transform.project import dbt_resource

# the marts dbt builds: the publication copies them, the audit vouches for them
marts = [key for key in dbt_models.keys if key.path[0] == "marts"]

defs = dg.Definitions(assets=[dbt_models], resources={"dbt": dbt_resource(project)})
