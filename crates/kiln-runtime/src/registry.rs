//! The driver registry: maps driver names and device URIs (`local-task://`, `vulkan://<uuid>`)
//! to drivers. Drivers register themselves, in tree or out of tree, by name.

use crate::hal::{Device, DeviceOptions, Driver};
use crate::HalError;
use std::sync::Arc;

/// A set of drivers, listed by name.
///
/// ```
/// use kiln_runtime::registry::DriverRegistry;
/// let registry = DriverRegistry::new();
/// assert!(registry.names().is_empty());
/// assert!(registry.create_device("local-task", &Default::default()).is_err());
/// ```
#[derive(Default, Clone)]
pub struct DriverRegistry {
    drivers: Vec<Arc<dyn Driver>>,
}

impl DriverRegistry {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a driver; a later driver with the same name replaces the earlier one.
    pub fn register(&mut self, driver: Arc<dyn Driver>) {
        self.drivers.retain(|d| d.name() != driver.name());
        self.drivers.push(driver);
        self.drivers.sort_by(|a, b| a.name().cmp(b.name()));
    }

    pub fn drivers(&self) -> &[Arc<dyn Driver>] {
        &self.drivers
    }

    pub fn names(&self) -> Vec<String> {
        self.drivers.iter().map(|d| d.name().to_string()).collect()
    }

    pub fn get(&self, name: &str) -> Option<&Arc<dyn Driver>> {
        self.drivers.iter().find(|d| d.name() == name)
    }

    /// Creates a device from `driver`, `driver://` or `driver://path`.
    pub fn create_device(
        &self,
        uri: &str,
        options: &DeviceOptions,
    ) -> Result<Arc<dyn Device>, HalError> {
        let (name, path) = uri.split_once("://").unwrap_or((uri, ""));
        let driver = self.get(name).ok_or_else(|| HalError::UnknownDriver {
            name: name.to_string(),
            available: self.names().join(", "),
        })?;
        driver.create_device(path, options)
    }
}
