from tests.standin.fixtures import standin, standin_state, standin_url  # noqa: F401
