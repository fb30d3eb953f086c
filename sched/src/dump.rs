//! Introspection: the goroutine dump and the deadlock report.

use core::fmt;
use core::panic::Location;

use crate::task::TaskState;

/// One task in a [`Dump`].
#[derive(Debug, Clone)]
pub struct TaskInfo {
    id: u64,
    state: TaskState,
    location: &'static Location<'static>,
    name: Option<String>,
}

impl TaskInfo {
    pub(crate) fn new(
        id: u64,
        state: TaskState,
        location: &'static Location<'static>,
        name: Option<&str>,
    ) -> Self {
        TaskInfo {
            id,
            state,
            location,
            name: name.map(Into::into),
        }
    }

    /// The task's id (also [`crate::JoinHandle::id`]).
    pub fn id(&self) -> u64 {
        self.id
    }

    /// What the task was doing when the dump was taken.
    pub fn state(&self) -> TaskState {
        self.state
    }

    /// Where the task was spawned (`go`, `Runtime::spawn`).
    pub fn location(&self) -> &'static Location<'static> {
        self.location
    }

    /// The name given at spawn, if any.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
}

impl fmt::Display for TaskInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            TaskState::Runnable => "runnable",
            TaskState::Running => "running",
            TaskState::Waiting => "waiting",
            TaskState::Done => "done",
        };
        write!(f, "goroutine {} [{state}]", self.id)?;
        if let Some(n) = &self.name {
            write!(f, " \"{n}\"")?;
        }
        write!(f, ", spawned at {}", self.location)
    }
}

/// Every live task of a runtime ([`crate::Runtime::dump`]); its `Display`
/// is one line per task, like Go's goroutine dump.
#[derive(Debug, Clone)]
pub struct Dump {
    tasks: Vec<TaskInfo>,
    main_waiting: bool,
}

impl Dump {
    pub(crate) fn new(tasks: Vec<TaskInfo>, main_waiting: bool) -> Self {
        Dump {
            tasks,
            main_waiting,
        }
    }

    /// The tasks, by id.
    pub fn tasks(&self) -> &[TaskInfo] {
        &self.tasks
    }
}

impl fmt::Display for Dump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.main_waiting {
            writeln!(f, "block_on future [waiting]")?;
        }
        for t in &self.tasks {
            writeln!(f, "{t}")?;
        }
        Ok(())
    }
}

/// The report of the deadlock check ([`crate::Builder::detect_deadlock`]):
/// every task, and `block_on`'s future, waits, and nothing can wake them.
#[derive(Debug, Clone)]
pub struct Deadlock {
    dump: Dump,
}

impl Deadlock {
    pub(crate) fn new(mut dump: Dump) -> Self {
        dump.main_waiting = true;
        Deadlock { dump }
    }

    /// The waiting tasks.
    pub fn dump(&self) -> &Dump {
        &self.dump
    }
}

impl fmt::Display for Deadlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "hoare_sched: all goroutines are asleep - deadlock! ({} waiting tasks)\n",
            self.dump.tasks.len()
        )?;
        write!(f, "{}", self.dump)
    }
}

impl std::error::Error for Deadlock {}
