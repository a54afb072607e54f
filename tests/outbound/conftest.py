from tests.push.harness import embedded_world, world  # noqa: F401  (fixtures)
