"""GraphQL operations shared by API tests and benchmarks."""

CREATE_TEAM = """
mutation($input: CreateTeamInput!) {
  createTeam(input: $input) { __typename ... on CreateTeamSuccess { team { id } } }
}
"""

CREATE_PROFILE = """
mutation($input: CreateMultimediaProfileInput!) {
  createMultimediaProfile(input: $input) {
    __typename ... on CreateMultimediaProfileSuccess { multimediaProfile { id } }
  }
}
"""

CREATE_AGENT = """
mutation($input: CreateAgentInput!) {
  createAgent(input: $input) {
    __typename
    ... on CreateAgentSuccess { agent { id version } }
    ... on ValidationError { field rule message }
  }
}
"""

UPDATE_AGENT = """
mutation($input: UpdateAgentInput!) {
  updateAgent(input: $input) {
    __typename
    ... on UpdateAgentSuccess { agent { id version } }
    ... on Error { code message }
  }
}
"""
