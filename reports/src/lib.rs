//! dhcpfo-reports: the run timeline data model and its renderers.
//!
//! Nothing is rendered yet: the timeline model arrives with the testbed (issue 5) and the
//! HTML/SVG renderers after it. The crate exists now so that the dependency direction of
//! DESIGN.md (`sim -> reports`, never `engine -> reports`) holds from the first commit.
