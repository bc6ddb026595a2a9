//! The app's pages and their URLs, as a pure mapping both ways.
//!
//! The proxy answers every page path with the app; the app decides what to show
//! from the path alone, so any URL can be bookmarked, shared or reloaded.

/// A page of the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Projects,
    Project { id: i64, view: ProjectView },
    NotFound,
}

/// The views of one project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProjectView {
    Setup,
    Watch,
    Escalate,
    Timeline,
    /// The project's name and service settings; admins change them.
    Settings,
}

impl ProjectView {
    pub const ALL: [ProjectView; 5] = [
        ProjectView::Setup,
        ProjectView::Watch,
        ProjectView::Escalate,
        ProjectView::Timeline,
        ProjectView::Settings,
    ];

    pub fn slug(self) -> &'static str {
        match self {
            ProjectView::Setup => "setup",
            ProjectView::Watch => "watch",
            ProjectView::Escalate => "escalate",
            ProjectView::Timeline => "timeline",
            ProjectView::Settings => "settings",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            ProjectView::Setup => "Setup",
            ProjectView::Watch => "Watch",
            ProjectView::Escalate => "Escalate",
            ProjectView::Timeline => "Timeline",
            ProjectView::Settings => "Settings",
        }
    }
}

impl Route {
    /// The route of a URL path; query and fragment must already be removed.
    pub fn parse(path: &str) -> Route {
        let segments: Vec<&str> = path
            .split('/')
            .filter(|segment| !segment.is_empty())
            .collect();
        match segments.as_slice() {
            [] => Route::Projects,
            ["projects", id, rest @ ..] => {
                let Some(id) = id.parse::<i64>().ok().filter(|id| *id > 0) else {
                    return Route::NotFound;
                };
                let view = match rest {
                    [] => Some(ProjectView::Setup),
                    [slug] => ProjectView::ALL
                        .into_iter()
                        .find(|view| view.slug() == *slug),
                    _ => None,
                };
                view.map_or(Route::NotFound, |view| Route::Project { id, view })
            }
            _ => Route::NotFound,
        }
    }

    /// The canonical path of the route.
    pub fn path(self) -> String {
        match self {
            Route::Projects | Route::NotFound => "/".to_owned(),
            Route::Project { id, view } => format!("/projects/{id}/{}", view.slug()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_map_to_routes_and_back() {
        assert_eq!(Route::parse("/"), Route::Projects);
        assert_eq!(Route::parse(""), Route::Projects);
        for view in ProjectView::ALL {
            let route = Route::Project { id: 7, view };
            assert_eq!(Route::parse(&route.path()), route);
        }
    }

    #[test]
    fn a_project_path_without_a_view_opens_setup() {
        assert_eq!(
            Route::parse("/projects/3"),
            Route::Project {
                id: 3,
                view: ProjectView::Setup
            }
        );
        assert_eq!(
            Route::parse("/projects/3/watch/"),
            Route::Project {
                id: 3,
                view: ProjectView::Watch
            }
        );
    }

    #[test]
    fn anything_else_is_not_found() {
        for path in [
            "/projects",
            "/projects/x/setup",
            "/projects/0/setup",
            "/projects/-1",
            "/projects/1/nope",
            "/projects/1/setup/x",
            "/nope",
        ] {
            assert_eq!(Route::parse(path), Route::NotFound, "{path}");
        }
    }
}
