"""A live web dashboard of automorph studies."""
