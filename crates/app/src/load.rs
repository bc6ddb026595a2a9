//! Reading from the proxy: a value that is loading, loaded or failed, and the
//! view for each state.
//!
//! Leptos' `LocalResource` with `Transition` and `Suspend` does this too, but
//! each one costs several KB of the 150 KB first-load budget; this costs one
//! signal per value.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;

use leptos::prelude::*;

use crate::api::ApiError;
use crate::components::{Failure, Loading};

type Fetch<T> = Rc<dyn Fn() -> Pin<Box<dyn Future<Output = Result<T, ApiError>>>>>;

#[derive(Debug, Clone)]
pub enum Load<T> {
    Loading,
    Ready(T),
    Failed(ApiError),
}

/// A value fetched from the proxy now, and again on [`Loader::reload`].
pub struct Loader<T: 'static> {
    state: RwSignal<Load<T>, LocalStorage>,
    fetch: StoredValue<Fetch<T>, LocalStorage>,
}

impl<T: 'static> Clone for Loader<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: 'static> Copy for Loader<T> {}

impl<T: Clone + 'static> Loader<T> {
    pub fn new<F: Future<Output = Result<T, ApiError>> + 'static>(
        fetch: impl Fn() -> F + 'static,
    ) -> Self {
        let fetch: Fetch<T> = Rc::new(move || Box::pin(fetch()));
        let loader = Loader {
            state: RwSignal::new_local(Load::Loading),
            fetch: StoredValue::new_local(fetch),
        };
        loader.reload();
        loader
    }

    /// Fetches again. The current value stays on screen until the new one
    /// arrives; a failure replaces it with what to do.
    pub fn reload(&self) {
        let (state, future) = (self.state, self.fetch.with_value(|fetch| fetch()));
        leptos::task::spawn_local(async move {
            let loaded = match future.await {
                Ok(value) => Load::Ready(value),
                Err(err) => Load::Failed(err),
            };
            if !state.is_disposed() {
                state.set(loaded);
            }
        });
    }

    pub fn get(&self) -> Load<T> {
        self.state.get()
    }

    /// Progress while loading, a failure with a retry button, or `ready`'s view.
    pub fn view<V: IntoView + 'static>(
        self,
        what: &'static str,
        ready: impl Fn(T) -> V + Send + Sync + 'static,
    ) -> impl IntoView {
        // Only `ready` differs between callers: the states around it are
        // built once per `T`, not once per call (2 KB of wasm a call).
        let ready: Arc<dyn Fn(T) -> AnyView + Send + Sync> =
            Arc::new(move |value| ready(value).into_any());
        move || self.show(what, &*ready)
    }

    fn show(self, what: &'static str, ready: &dyn Fn(T) -> AnyView) -> AnyView {
        match self.get() {
            Load::Ready(value) => ready(value),
            Load::Loading => loading(what),
            Load::Failed(err) => failed(err, Callback::new(move |()| self.reload())),
        }
    }
}

fn loading(what: &'static str) -> AnyView {
    view! { <Loading what/> }.into_any()
}

fn failed(err: ApiError, retry: Callback<()>) -> AnyView {
    view! { <Failure message=err.to_string() retry/> }.into_any()
}
