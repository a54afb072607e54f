from tests.push.harness import robot_world, world  # noqa: F401  (fixtures)
