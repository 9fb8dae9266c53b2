//! The catalog pages (docs/PORTAL.md, "Catalog"): stores (with the CSV upload), store lists,
//! manufacturers, items and item sets. Each is a paged list searched by name and a create /
//! edit form drawn by two shared templates (`catalog_list.html`, `catalog_form.html`) from a
//! description of its columns and fields. Writes go through the API's own paths: the domain's
//! `*Input::into_new` / `into_changes`, the store's `values`, `crud::insert` / `crud::update`
//! and the link sets' `apply`, in one transaction. Owners and editors write; viewers see the
//! pages without forms; store operators see none of them.

pub mod item_sets;
pub mod items;
pub mod manufacturers;
pub mod store_lists;
pub mod stores;
pub mod upload;

use super::merchants::path_id;
use super::pages::{param, ACCOUNT_PAGES};
use super::session::{Form, Signed};
use super::view::{self, Nav};
use super::PortalState;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use kindling_domain::paging::PageRequest;
use kindling_domain::{AccountId, FieldErrors};
use kindling_store::crud::{self, Filter, Order, Paged, Table};
use kindling_store::portal::choices::Choice;
use kindling_store::{Db, StoreError};
use minijinja::{context, Value};
use std::future::Future;

/// Records a list page shows.
pub const PER_PAGE: u32 = 50;

/// The catalog's own tabs, under the layout's "Catalog" link.
const TABS: [(&str, &str); 5] = [
    ("/admin/stores", "Stores"),
    ("/admin/store_lists", "Store lists"),
    ("/admin/manufacturers", "Manufacturers"),
    ("/admin/items", "Items"),
    ("/admin/item_sets", "Item sets"),
];

/// The layout's context plus the catalog's tabs, `base` the current one.
fn chrome(signed: &Signed, base: &str) -> Value {
    let tabs: Vec<Value> =
        TABS.iter().map(|(href, label)| context! { href => href, label => label, current => *href == base }).collect();
    context! { tabs => tabs, ..signed.chrome(Nav::Catalog) }
}

/// The 403 to answer unless the role sees the account's pages.
fn readable(signed: &Signed) -> Option<Response> {
    (!signed.access.sees_account()).then(|| signed.forbidden(ACCOUNT_PAGES))
}

/// What a list page was asked for: `?q=` (a name, trimmed, at most 255 characters) and
/// `?page=` (from 1; anything else is 1).
pub struct Listing {
    pub q: String,
    pub page: u32,
}

impl Listing {
    pub fn of(query: Option<&str>) -> Self {
        let q = param(query, "q").unwrap_or_default().trim().chars().take(255).collect();
        let page = param(query, "page").and_then(|p| p.parse::<u32>().ok()).unwrap_or(1).max(1);
        Self { q, page }
    }

    pub fn request(&self) -> PageRequest {
        PageRequest { page: self.page, per_page: PER_PAGE }
    }

    /// The name search as a crud filter.
    pub fn filters(&self) -> Vec<Filter> {
        if self.q.is_empty() {
            Vec::new()
        } else {
            vec![Filter::Contains("name", self.q.clone())]
        }
    }

    fn url(&self, base: &str, page: i64) -> String {
        let mut url = url::form_urlencoded::Serializer::new(String::new());
        if !self.q.is_empty() {
            url.append_pair("q", &self.q);
        }
        url.append_pair("page", &page.to_string());
        format!("{base}?{}", url.finish())
    }
}

/// What a list page is: its path, its words and its columns (the first is the name).
pub struct ListSpec {
    pub base: &'static str,
    pub title: &'static str,
    pub singular: &'static str,
    pub plural: &'static str,
    pub columns: &'static [&'static str],
}

/// What one kind of catalog page has of its own; the handlers here ([`list`]) do the rest.
pub trait CatalogPage: Send + Sync + 'static {
    /// The table the page lists and writes.
    type Table: Table;
    /// The list page's path, words and columns.
    const LIST: ListSpec;
    /// Links shown to editors above the list.
    const ACTIONS: &'static [(&'static str, &'static str)] = &[];

    /// The list's rows for a page of records, in the spec's column order; names the rows
    /// show are read in a fixed number of statements, whatever the page's length.
    fn rows<'a>(
        db: &'a Db,
        account: AccountId,
        records: &'a [Record<Self>],
    ) -> impl Future<Output = Result<Vec<Value>, StoreError>> + Send + 'a;

    /// The record's name, as stored (an edit page's heading).
    fn name(record: &Record<Self>) -> &str;

    /// The edit form's fields (with the choices it offers, read here) and `record`'s values
    /// in them.
    fn edit_form<'a>(
        db: &'a Db,
        account: AccountId,
        record: &'a Record<Self>,
    ) -> impl Future<Output = Result<(Vec<Field>, Values), StoreError>> + Send + 'a;

    /// Writes the posted `values` over `record` (its edit form's values `stored`) as the
    /// API's update does, in one transaction; a refusal leaves nothing written.
    fn save<'a>(
        db: &'a Db,
        account: AccountId,
        record: &'a Record<Self>,
        values: &'a Values,
        stored: &'a Values,
    ) -> impl Future<Output = Result<(), Refusal>> + Send + 'a;

    /// The create form's fields (with the choices it offers, read here) and first values.
    fn new_form(db: &Db, account: AccountId) -> impl Future<Output = Result<(Vec<Field>, Values), StoreError>> + Send;

    /// Creates a record of the posted `values` as the API's create does, in one transaction
    /// (a refusal leaves nothing written); its id.
    fn insert<'a>(
        db: &'a Db,
        account: AccountId,
        values: &'a Values,
    ) -> impl Future<Output = Result<i64, Refusal>> + Send + 'a;
}

/// A page kind's record.
pub type Record<P> = <<P as CatalogPage>::Table as Table>::Record;

/// `GET {base}?q=&page=`: the account's records of `P` by name, 50 a page.
pub async fn list<P: CatalogPage>(
    State(portal): State<PortalState>,
    signed: Signed,
    RawQuery(query): RawQuery,
) -> Response {
    if let Some(refused) = readable(&signed) {
        return refused;
    }
    let listing = Listing::of(query.as_deref());
    let account = signed.session.account;
    let order = [("name", Order::Asc), ("id", Order::Asc)];
    let found =
        match crud::list_ordered::<P::Table>(&portal.db, account, &[], &listing.filters(), &order, listing.request())
            .await
        {
            Ok(found) => found,
            Err(e) => return failure(&e),
        };
    match P::rows(&portal.db, account, &found.items).await {
        Ok(rows) => list_page(&signed, &P::LIST, &listing, &found, rows, P::ACTIONS),
        Err(e) => failure(&e),
    }
}

/// The form page's words for `P` (`id` and `name` none when new).
pub fn form_spec<P: CatalogPage>(id: Option<i64>, name: Option<&str>) -> FormSpec<'_> {
    FormSpec { base: P::LIST.base, singular: P::LIST.singular, plural_title: P::LIST.title, id, name }
}

/// The account's record of `P` the path names, or the 404 page (another account's id too).
pub async fn load<P: CatalogPage>(portal: &PortalState, signed: &Signed, raw: &str) -> Result<Record<P>, Response> {
    let missing = || not_found(signed, P::LIST.singular, P::LIST.base);
    let id = path_id(raw).ok_or_else(missing)?;
    match crud::get::<P::Table>(&portal.db, signed.session.account, &[], id.into()).await {
        Ok(Some(record)) => Ok(record),
        Ok(None) => Err(missing()),
        Err(e) => Err(failure(&e)),
    }
}

/// The record of `P` the path names and its edit form's fields and values.
pub async fn load_form<P: CatalogPage>(
    portal: &PortalState,
    signed: &Signed,
    raw: &str,
) -> Result<(Record<P>, Vec<Field>, Values), Response> {
    let record = load::<P>(portal, signed, raw).await?;
    let (fields, values) = P::edit_form(&portal.db, signed.session.account, &record).await.map_err(failed)?;
    Ok((record, fields, values))
}

/// `GET {base}/{id}`: the edit form (owners, editors) or the record (viewers).
pub async fn show<P: CatalogPage>(
    State(portal): State<PortalState>,
    signed: Signed,
    Path(raw): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    if let Some(refused) = readable(&signed) {
        return refused;
    }
    let (record, fields, values) = match load_form::<P>(&portal, &signed, &raw).await {
        Ok(found) => found,
        Err(answer) => return answer,
    };
    let notice = done_notice(query.as_deref(), P::LIST.singular);
    let spec = form_spec::<P>(Some(<P::Table as Table>::id(&record).into()), Some(P::name(&record)));
    form_page(&signed, StatusCode::OK, &spec, &fields, &values, &FieldErrors::new(), notice.as_deref())
}

/// `GET {base}/new`: the create form (owners and editors).
pub async fn new<P: CatalogPage>(State(portal): State<PortalState>, signed: Signed) -> Response {
    if !signed.access.can_edit() {
        return signed.refuse_writing();
    }
    match P::new_form(&portal.db, signed.session.account).await {
        Ok((fields, values)) => {
            form_page(&signed, StatusCode::OK, &form_spec::<P>(None, None), &fields, &values, &FieldErrors::new(), None)
        }
        Err(e) => failure(&e),
    }
}

/// `POST {base}`: the create form, written by `P::insert`; a refusal is the form again (422,
/// values kept).
pub async fn create<P: CatalogPage>(State(portal): State<PortalState>, signed: Signed, body: Bytes) -> Response {
    let form = Form::parse(&body);
    if let Some(refused) = signed.write_refusal(&form) {
        return refused;
    }
    let account = signed.session.account;
    let fields = match P::new_form(&portal.db, account).await {
        Ok((fields, _)) => fields,
        Err(e) => return failure(&e),
    };
    let values = Values::posted(&form, &fields);
    match P::insert(&portal.db, account, &values).await {
        Ok(id) => view::redirect(&format!("{}/{id}?done=created", P::LIST.base)),
        Err(Refusal::Fields(errors)) => {
            let spec = form_spec::<P>(None, None);
            form_page(&signed, StatusCode::UNPROCESSABLE_ENTITY, &spec, &fields, &values, &errors, None)
        }
        Err(Refusal::NotFound) => not_found(&signed, P::LIST.singular, P::LIST.base),
        Err(Refusal::Store(e)) => failure(&e),
    }
}

/// `POST {base}/{id}`: the edit form, written by `P::save`; a refusal is the form again
/// (422, values kept) or the 404 page.
pub async fn update<P: CatalogPage>(
    State(portal): State<PortalState>,
    signed: Signed,
    Path(raw): Path<String>,
    body: Bytes,
) -> Response {
    let form = Form::parse(&body);
    if let Some(refused) = signed.write_refusal(&form) {
        return refused;
    }
    let (record, fields, stored) = match load_form::<P>(&portal, &signed, &raw).await {
        Ok(found) => found,
        Err(answer) => return answer,
    };
    let values = Values::posted(&form, &fields);
    let id: i64 = <P::Table as Table>::id(&record).into();
    match P::save(&portal.db, signed.session.account, &record, &values, &stored).await {
        Ok(()) => view::redirect(&format!("{}/{id}?done=saved", P::LIST.base)),
        Err(Refusal::Fields(errors)) => {
            let spec = form_spec::<P>(Some(id), Some(P::name(&record)));
            form_page(&signed, StatusCode::UNPROCESSABLE_ENTITY, &spec, &fields, &values, &errors, None)
        }
        Err(Refusal::NotFound) => not_found(&signed, P::LIST.singular, P::LIST.base),
        Err(Refusal::Store(e)) => failure(&e),
    }
}

/// An update's outcome (`crud::update`'s "found") as a save's.
pub fn saved(written: Result<bool, StoreError>) -> Result<(), Refusal> {
    match written {
        Ok(true) => Ok(()),
        Ok(false) => Err(Refusal::NotFound),
        Err(e) => Err(Refusal::Store(e)),
    }
}

/// One row of a list: the record's id and its cells, in the spec's column order.
pub fn row(id: i64, cells: Vec<String>) -> Value {
    context! { id => id, cells => cells }
}

/// A list page of `found`'s records as `rows`, with `actions` (links shown to editors).
pub fn list_page<T>(
    signed: &Signed,
    spec: &ListSpec,
    listing: &Listing,
    found: &Paged<T>,
    rows: Vec<Value>,
    actions: &[(&str, &str)],
) -> Response {
    let pages = ((found.total_entries + i64::from(PER_PAGE) - 1) / i64::from(PER_PAGE)).max(1);
    let page = i64::from(listing.page);
    let actions: Vec<Value> = actions.iter().map(|(href, label)| context! { href => href, label => label }).collect();
    let ctx = context! {
        base => spec.base,
        title => spec.title,
        singular => spec.singular,
        plural => spec.plural,
        columns => spec.columns,
        q => listing.q,
        rows => rows,
        total => found.total_entries,
        page => page,
        pages => pages,
        prev => (page > 1).then(|| listing.url(spec.base, (page - 1).min(pages))),
        next => (page < pages).then(|| listing.url(spec.base, page + 1)),
        actions => actions,
        ..chrome(signed, spec.base)
    };
    view::html(StatusCode::OK, view::render("portal/catalog_list.html", ctx))
}

/// How a form field is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Number,
    Textarea,
    Select,
    Checkbox,
    /// A group of checkboxes (`name` repeated), with a text field `{name}_more` for ids
    /// not among the choices.
    Checks,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Text => "text",
            Kind::Number => "number",
            Kind::Textarea => "textarea",
            Kind::Select => "select",
            Kind::Checkbox => "checkbox",
            Kind::Checks => "checks",
        }
    }
}

/// A form field: its form name, label and kind, where its errors are filed (the domain's
/// field name, e.g. `location.city`), its choices and a hint.
pub struct Field {
    pub name: &'static str,
    pub label: &'static str,
    pub kind: Kind,
    pub error_key: &'static str,
    pub choices: Vec<Choice>,
    pub hint: Option<&'static str>,
}

impl Field {
    pub fn new(name: &'static str, label: &'static str, kind: Kind) -> Self {
        Self { name, label, kind, error_key: name, choices: Vec::new(), hint: None }
    }

    pub fn errors_as(mut self, key: &'static str) -> Self {
        self.error_key = key;
        self
    }

    pub fn choices(mut self, choices: Vec<Choice>) -> Self {
        self.choices = choices;
        self
    }

    pub fn hint(mut self, hint: &'static str) -> Self {
        self.hint = Some(hint);
        self
    }
}

/// A form's values by field name: text, `"true"` for a ticked checkbox, and for a group of
/// checkboxes the ticked ids.
#[derive(Debug, Default, Clone)]
pub struct Values {
    pub text: std::collections::HashMap<&'static str, String>,
    pub ids: Vec<i64>,
    /// A group's ids given in its text field, as typed.
    pub more: String,
}

impl Values {
    pub fn get(&self, name: &str) -> &str {
        self.text.get(name).map_or("", String::as_str)
    }

    pub fn set(&mut self, name: &'static str, value: impl Into<String>) {
        self.text.insert(name, value.into());
    }

    /// The posted values of `fields` (a checkbox is `"true"` when ticked, else empty).
    pub fn posted(form: &Form, fields: &[Field]) -> Self {
        let mut values = Self::default();
        for field in fields {
            match field.kind {
                Kind::Checkbox => values.set(field.name, if form.get(field.name).is_some() { "true" } else { "" }),
                Kind::Checks => {
                    values.ids = form.all(field.name).iter().filter_map(|raw| path_id(raw.trim())).collect();
                    values.more = form.get(&format!("{}_more", field.name)).unwrap_or_default().trim().to_owned();
                }
                _ => values.set(field.name, form.get(field.name).unwrap_or_default()),
            }
        }
        values
    }

    /// Non-blank text, as the domain's inputs take it.
    pub fn opt(&self, name: &str) -> Option<String> {
        Some(self.get(name).to_owned()).filter(|v| !v.trim().is_empty())
    }

    pub fn ticked(&self, name: &str) -> bool {
        self.get(name) == "true"
    }

    /// The group's ids: the ticked ones and those typed (comma or space separated); a typed
    /// value that is not an id is the field's error.
    pub fn all_ids(&self, field: &str, errors: &mut FieldErrors) -> Vec<i64> {
        let mut ids = self.ids.clone();
        for raw in self.more.split(|c: char| c == ',' || c.is_whitespace()).filter(|s| !s.is_empty()) {
            match path_id(raw) {
                Some(id) => ids.push(id),
                None => errors.add(field, &format!("must be ids (numbers), got {raw:?}")),
            }
        }
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// Sets a group from stored ids: the choices' ones ticked, the rest typed.
    pub fn linked(&mut self, ids: &[i64], choices: &[Choice]) {
        let (shown, more): (Vec<i64>, Vec<i64>) = ids.iter().partition(|id| choices.iter().any(|c| c.id == **id));
        self.ids = shown;
        self.more = more.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
    }
}

/// Parses a decimal the form gave, filing "must be a number" under `key`.
pub fn number(values: &Values, name: &str, key: &str, errors: &mut FieldErrors) -> Option<f64> {
    let raw = values.opt(name)?;
    raw.trim().parse::<f64>().map_err(|_| errors.add(key, &format!("must be a number, got {:?}", raw.trim()))).ok()
}

/// Adds `more`'s errors to `errors`.
pub fn merge(mut errors: FieldErrors, more: FieldErrors) -> FieldErrors {
    for (field, message) in more.iter() {
        errors.add(field, message);
    }
    errors
}

/// What a form page is: where it posts, its words, and its record (none when new).
pub struct FormSpec<'a> {
    pub base: &'static str,
    pub singular: &'static str,
    pub plural_title: &'static str,
    pub id: Option<i64>,
    /// The record's name, as stored (the heading of an edit page).
    pub name: Option<&'a str>,
}

/// The create or edit form (a viewer's read-only page), with field errors beside their fields.
pub fn form_page(
    signed: &Signed,
    status: StatusCode,
    spec: &FormSpec<'_>,
    fields: &[Field],
    values: &Values,
    errors: &FieldErrors,
    notice: Option<&str>,
) -> Response {
    let drawn: Vec<Value> = fields
        .iter()
        .map(|f| {
            let value = values.get(f.name);
            let choices: Vec<Value> = f
                .choices
                .iter()
                .map(|c| {
                    let chosen = match f.kind {
                        Kind::Checks => values.ids.contains(&c.id),
                        _ => value == c.id.to_string(),
                    };
                    context! { value => c.id.to_string(), label => c.name, chosen => chosen }
                })
                .collect();
            context! {
                name => f.name,
                label => f.label,
                kind => f.kind.as_str(),
                value => value,
                more => values.more,
                choices => choices,
                hint => f.hint,
                error => errors.get(f.error_key),
                shown => match f.kind {
                    Kind::Checkbox => if values.ticked(f.name) { "yes" } else { "no" }.to_owned(),
                    Kind::Select => f.choices.iter().find(|c| c.id.to_string() == value).map(|c| c.name.clone()).unwrap_or_default(),
                    Kind::Checks => f.choices.iter().filter(|c| values.ids.contains(&c.id)).map(|c| c.name.clone()).chain((!values.more.is_empty()).then(|| values.more.clone())).collect::<Vec<_>>().join(", "),
                    _ => value.to_owned(),
                },
            }
        })
        .collect();
    // Errors of fields the form does not show (e.g. `base`) are listed at the top.
    let others: Vec<String> = errors
        .iter()
        .filter(|(key, _)| !fields.iter().any(|f| f.error_key == *key))
        .map(|(key, message)| format!("{key} {message}"))
        .collect();
    let ctx = context! {
        base => spec.base,
        singular => spec.singular,
        plural_title => spec.plural_title,
        id => spec.id,
        name => spec.name,
        fields => drawn,
        invalid => !errors.is_empty(),
        others => others,
        notice => notice,
        ..chrome(signed, spec.base)
    };
    view::html(status, view::render("portal/catalog_form.html", ctx))
}

/// The notice of `?done=created|saved`.
pub fn done_notice(query: Option<&str>, singular: &str) -> Option<String> {
    match param(query, "done").as_deref() {
        Some("created") => Some(format!("The {singular} was created.")),
        Some("saved") => Some(format!("The {singular} was saved.")),
        _ => None,
    }
}

/// A store failure as its page.
pub fn failure(e: &StoreError) -> Response {
    view::store_failure(e)
}

/// A store failure as its page (for `map_err`).
pub fn failed(e: StoreError) -> Response {
    view::store_failure(&e)
}

/// 404 for a record of this kind that is not the account's.
pub fn not_found(signed: &Signed, singular: &str, base: &str) -> Response {
    view::not_found(singular, chrome(signed, base))
}

/// Why a write inside its transaction was undone (so nothing of it stays).
pub enum Refusal {
    Fields(FieldErrors),
    NotFound,
    Store(StoreError),
}

impl From<StoreError> for Refusal {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

/// Replaces the owner's linked set with `ids` inside `tx`, as the API's writes do
/// (`Write::links`): at most `MAX_IDS`, every id the account's and one the owner may link.
pub async fn replace_links<Id: Copy + 'static>(
    tx: &mut kindling_store::Tx,
    account: kindling_domain::AccountId,
    set: &'static dyn kindling_store::link_set::ReplaceLinks<Id>,
    owner: Id,
    field: &str,
    ids: &[i64],
) -> Result<(), Refusal> {
    use kindling_store::link_set::LinkOutcome;
    kindling_domain::input::id_count(field, ids).map_err(Refusal::Fields)?;
    match set.replace(tx, account, owner, ids).await? {
        LinkOutcome::Linked(_) => Ok(()),
        LinkOutcome::OwnerNotFound => Err(Refusal::NotFound),
        LinkOutcome::UnknownTargets(unknown) => {
            Err(Refusal::Fields(kindling_domain::input::unknown_ids(field, &unknown)))
        }
    }
}
