// The console calendar (FullCalendar, pinned and served from static/vendor): an office's appointments by
// week or day in the office's time zone, dates written the office's way (its locale). Events come from
// the console's feed (the appointment selector); free slots, booking, rescheduling and cancelling go
// through the REST API, so the rules (a taken slot's 409, the opening hours' 409) are the API's.
// Every appointment shows whatever its hour: the grid spans the opening hours and every appointment.
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("calendar-config").textContent);
  const {api} = window.Console;
  const {DateTime} = window.luxon;
  const zone = config.office.timezone;
  const banner = document.getElementById("calendar-message");
  const bookingDialog = document.getElementById("booking-dialog");
  const bookingForm = document.getElementById("booking-form");
  const override = bookingForm.querySelector(".dialog-override");
  const appointmentDialog = document.getElementById("appointment-dialog");
  const appointmentForm = document.getElementById("appointment-form");
  const people = new Map(config.consultants.map((person) => [person.id, person]));
  const phone = window.matchMedia("(max-width: 700px)").matches;

  function say(text, kind) {
    banner.hidden = !text;
    banner.textContent = text || "";
    banner.className = `console-message ${kind || ""}`;
  }

  const local = (iso) => DateTime.fromISO(iso, {zone}).setLocale(config.office.locale);
  const when = (start, end) => `${local(start).toFormat("cccc d LLLL yyyy, HH:mm")}–${local(end).toFormat("HH:mm")} (${zone})`;
  const failureText = (failure) => (failure.code === "slot_taken"
    ? `That time is taken: ${failure.message} Pick another free slot.`
    : failure.message);

  // --- the hours the grid shows: opening hours of the days shown, widened to every appointment ---

  const minutes = (hhmm) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
  const hhmm = (total) => `${String(Math.floor(total / 60)).padStart(2, "0")}:${String(total % 60).padStart(2, "0")}:00`;
  let wholeDay = false;
  let shownDays = [];

  function gridHours(events) {
    let first = 8 * 60;
    let last = 18 * 60;
    for (const day of shownDays) {
      const open = !config.office.closed[day.toISODate()] && config.office.week[String(day.weekday)];
      if (open) { first = Math.min(first, minutes(open[0])); last = Math.max(last, minutes(open[1])); }
    }
    for (const event of events) {
      if (event.display === "background" || !event.startStr) continue;
      const start = local(event.startStr);
      const end = event.endStr ? local(event.endStr) : start.plus({minutes: config.slot_minutes});
      first = Math.min(first, start.hour * 60 + start.minute);
      last = Math.max(last, end.hasSame(start, "day") ? end.hour * 60 + end.minute : 24 * 60);
    }
    if (wholeDay) return ["00:00:00", "24:00:00"];
    return [hhmm(Math.floor(first / 60) * 60), hhmm(Math.min(Math.ceil(last / 60) * 60, 24 * 60))];
  }

  function fitGrid() {
    const [min, max] = gridHours(calendar.getEvents());
    if (calendar.getOption("slotMinTime") !== min) calendar.setOption("slotMinTime", min);
    if (calendar.getOption("slotMaxTime") !== max) calendar.setOption("slotMaxTime", max);
  }

  // The office's week as FullCalendar's business hours (0 is Sunday there, 7 in ISO); closed dates as
  // shaded background events.
  const businessHours = Object.entries(config.office.week).map(([day, [opens, closes]]) => (
    {daysOfWeek: [Number(day) % 7], startTime: opens, endTime: closes}));
  const closedDays = Object.entries(config.office.closed).map(([day, reason]) => ({
    start: day, end: DateTime.fromISO(day).plus({days: 1}).toISODate(), allDay: false, display: "background",
    title: reason, classNames: ["closed-day"], extendedProps: {kind: "closed"},
  }));

  // --- event sources ---

  function appointmentEvents(info, success, failure) {
    const params = new URLSearchParams({start: info.startStr, end: info.endStr, office: config.office.id});
    if (config.consultant_id) params.set("consultant", config.consultant_id);
    fetch(`${config.events_url}?${params}`, {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then((response) => (response.ok ? response.json() : Promise.reject(new Error(`The calendar could not load (${response.status}).`))))
      .then(success, (error) => { say(error.message, "error"); failure(error); });
  }

  const freeFor = () => (config.consultant_id ? [config.consultant_id]
    : [...document.querySelectorAll("#calendar-legend input[name=free]:checked")].map((box) => Number(box.value)));

  // Free slots: one shaded block per slot naming (and colouring) every consultant free then, behind the
  // appointments, so a booked block keeps its full width; clicking one books the first of them.
  let freeAt = new Map();  // slot start (ISO) -> consultant ids free then
  async function freeSlots(info, success, failure) {
    const ids = freeFor();
    const first = local(info.startStr).toISODate() < config.today ? config.today : local(info.startStr).toISODate();
    const last = local(info.endStr).minus({days: 1}).toISODate();
    if (!config.may_book || !ids.length || first > last) { freeAt = new Map(); success([]); return; }
    try {
      const page = await api("GET", `/api/v1/appointments/free-slots?${new URLSearchParams({
        consultant_ids: ids.join(","), date_from: first, date_to: last})}`);
      const slots = new Map();
      for (const slot of page.results) {
        const key = local(slot.start).toISO();
        if (!slots.has(key)) slots.set(key, {start: slot.start, end: slot.end, ids: []});
        slots.get(key).ids.push(slot.consultant_id);
      }
      freeAt = new Map([...slots].map(([key, slot]) => [key, slot.ids]));
      success([...slots.values()].map((slot) => ({
        start: slot.start, end: slot.end, display: "background", classNames: ["free-slot"],
        title: `Free: ${slot.ids.map((id) => (people.get(id) || {name: "?"}).name).join(", ")}`,
        extendedProps: {kind: "free", consultant_ids: slot.ids},
      })));
    } catch (error) {
      say(`Free slots could not load: ${error.message}`, "error");
      failure(error);
    }
  }

  function freeContent(event) {
    const box = document.createElement("div");
    box.className = "free-text";
    for (const id of event.extendedProps.consultant_ids) {
      const person = people.get(id) || {name: "?", colour: "#475569"};
      const name = document.createElement("span");
      name.className = "free-person";
      name.style.setProperty("--person", person.colour);
      name.textContent = config.consultant_id ? "Free" : person.name.split(" ")[0];
      box.append(name);
    }
    return {domNodes: [box]};
  }

  // Time, then who and what, wrapping inside the block (a 45-minute block shows its whole title).
  function eventContent(arg) {
    if (arg.event.extendedProps.kind === "free") return freeContent(arg.event);
    if (arg.event.display === "background") return {html: ""};
    const box = document.createElement("div");
    box.className = "event-text";
    const time = document.createElement("b");
    time.textContent = `${local(arg.event.startStr).toFormat("HH:mm")} `;
    const text = document.createElement("span");
    const props = arg.event.extendedProps;
    text.textContent = props.kind === "appointment"
      ? `${arg.event.title}${config.consultant_id ? "" : ` · ${props.consultant.split(" ")[0]}`}${props.status !== "scheduled" ? ` (${props.status_label})` : ""}`
      : arg.event.title;
    box.append(time, text);
    return {domNodes: [box]};
  }

  // FullCalendar's toolbar icons are role="img" without a name: hide them, the buttons carry the name.
  function nameButtons() {
    const unit = calendar.view && calendar.view.type === "timeGridDay" ? "day" : "week";
    document.querySelectorAll("#calendar .fc-icon").forEach((icon) => icon.setAttribute("aria-hidden", "true"));
    const prev = document.querySelector("#calendar .fc-prev-button");
    const next = document.querySelector("#calendar .fc-next-button");
    if (prev) { prev.setAttribute("aria-label", `Previous ${unit}`); prev.title = `Previous ${unit}`; }
    if (next) { next.setAttribute("aria-label", `Next ${unit}`); next.title = `Next ${unit}`; }
  }

  const calendar = new window.FullCalendar.Calendar(document.getElementById("calendar"), {
    timeZone: zone,
    locale: config.office.locale,
    now: () => DateTime.now().setZone(zone).toISO(),
    initialView: phone ? "timeGridDay" : "timeGridWeek",
    initialDate: config.start ? local(config.start).toISODate() : config.today,
    headerToolbar: phone
      ? {left: "prev,next today", center: "", right: "hours timeGridWeek,timeGridDay"}
      : {left: "prev,next today", center: "title", right: "hours timeGridWeek,timeGridDay"},
    footerToolbar: phone ? {center: "title"} : false,
    customButtons: {hours: {text: "24 hours", hint: "Show every hour of the day", click: toggleHours}},
    firstDay: 1,
    slotMinTime: "08:00:00",
    slotMaxTime: "18:00:00",
    slotDuration: {minutes: config.slot_minutes},
    slotLabelFormat: {hour: "2-digit", minute: "2-digit", hour12: false},
    eventTimeFormat: {hour: "2-digit", minute: "2-digit", hour12: false},
    businessHours,
    allDaySlot: false,
    nowIndicator: true,
    height: "auto",
    expandRows: true,
    selectable: config.may_book,
    selectMirror: true,
    eventSources: [
      {id: "appointments", events: appointmentEvents},
      {id: "free", events: freeSlots},
      {id: "closed", events: closedDays},
    ],
    eventContent,
    selectOverlap: (event) => event.display === "background",
    datesSet: (info) => {
      shownDays = [];
      for (let day = local(info.startStr).startOf("day"); day < local(info.endStr); day = day.plus({days: 1})) shownDays.push(day);
      fitGrid();
      nameButtons();
    },
    eventsSet: fitGrid,
    select: (info) => {
      calendar.unselect();
      openBooking(info.startStr, info.endStr, (freeAt.get(local(info.startStr).toISO()) || [])[0]);
    },
    eventClick: (info) => {
      info.jsEvent.preventDefault();
      if (info.event.extendedProps.kind === "appointment") openAppointment(info.event);
    },
    eventDrop: reschedule,
    eventResize: reschedule,
    eventDidMount: (info) => {
      const props = info.event.extendedProps;
      info.el.dataset.kind = props.kind;
      info.el.dataset.start = info.event.startStr;
      if (props.consultant_id) info.el.dataset.consultant = props.consultant_id;
      if (props.consultant_ids) info.el.dataset.consultants = props.consultant_ids.join(" ");
      if (info.event.id) info.el.dataset.appointment = info.event.id;
      if (props.kind !== "closed") info.el.title = `${local(info.event.startStr).toFormat("HH:mm")}–${local(info.event.endStr).toFormat("HH:mm")} ${info.event.title}${props.consultant ? ` · ${props.consultant}` : ""}`;
      if (props.kind === "free") info.el.setAttribute("aria-label", info.el.title);
    },
  });

  function toggleHours() {
    wholeDay = !wholeDay;
    calendar.setOption("customButtons", {hours: {text: wholeDay ? "Office hours" : "24 hours",
      hint: wholeDay ? "Show the opening hours and the appointments" : "Show every hour of the day", click: toggleHours}});
    fitGrid();
    nameButtons();
  }

  calendar.render();
  nameButtons();
  document.body.dataset.calendarReady = "true";
  document.querySelectorAll("#calendar-legend input[name=free]").forEach((box) => box.addEventListener("change", () => {
    calendar.getEventSourceById("free").refetch();
  }));

  // --- booking ---

  const attendees = bookingForm.elements.lead_id;
  let booking = null;

  function addAttendee(lead, selected) {
    const option = new Option(`${lead.name}${lead.contact ? ` (${lead.contact})` : ""}`, lead.id, selected, selected);
    option.dataset.student = lead.student_id || "";
    attendees.add(option);
  }

  function openBooking(start, end, consultantId) {
    if (!config.may_book) return;
    booking = {start, end};
    bookingForm.querySelector(".dialog-error").textContent = "";
    override.hidden = true;
    bookingForm.elements.allow_outside_hours.checked = false;
    document.getElementById("booking-when").textContent = when(start, end);
    const chosen = consultantId || config.consultant_id;
    if (chosen) bookingForm.elements.consultant_id.value = chosen;
    if (config.lead && !attendees.querySelector(`option[value="${config.lead.id}"]`)) addAttendee(config.lead, true);
    bookingDialog.showModal();
    (attendees.value ? bookingForm.elements.title : bookingForm.elements.lead_search).focus();
  }

  let searching = null;
  bookingForm.elements.lead_search.addEventListener("input", (event) => {
    clearTimeout(searching);
    const query = event.target.value.trim();
    if (query.length < 2) return;
    searching = setTimeout(async () => {
      try {
        const page = await api("GET", `/api/v1/leads?${new URLSearchParams({q: query, limit: 10})}`);
        attendees.innerHTML = "";
        page.results.forEach((lead, index) => addAttendee({
          id: lead.id, name: `${lead.first_name} ${lead.last_name}`.trim(), contact: lead.email || lead.phone_display || lead.phone,
          student_id: lead.student_id,
        }, index === 0));
        if (!page.results.length) bookingForm.querySelector(".dialog-error").textContent = "No lead matches.";
      } catch (failure) {
        bookingForm.querySelector(".dialog-error").textContent = failure.message;
      }
    }, 250);
  });

  bookingForm.addEventListener("submit", async (event) => {
    event.preventDefault();  // the dialog stays open until the API says yes
    const error = bookingForm.querySelector(".dialog-error");
    const chosen = attendees.selectedOptions[0];
    if (!chosen) { error.textContent = "Choose who the appointment is for."; return; }
    const submit = bookingForm.querySelector("[type=submit]");
    submit.disabled = true;
    try {
      const appointment = await api("POST", "/api/v1/appointments", {
        consultant_id: Number(bookingForm.elements.consultant_id.value), lead_id: Number(chosen.value),
        student_id: chosen.dataset.student ? Number(chosen.dataset.student) : null,
        title: bookingForm.elements.title.value, notes: bookingForm.elements.notes.value,
        start: booking.start, end: booking.end, allow_outside_hours: bookingForm.elements.allow_outside_hours.checked,
      });
      bookingDialog.close();
      say(`Booked: ${chosen.textContent} with ${bookingForm.elements.consultant_id.selectedOptions[0].textContent}, ${when(appointment.start, appointment.end)}.`, "success");
      calendar.refetchEvents();
    } catch (failure) {
      error.textContent = failureText(failure);
      override.hidden = !(failure.code === "outside_opening_hours" && failure.details.may_override);
      calendar.refetchEvents();
    } finally {
      submit.disabled = false;
    }
  });

  // --- an appointment: details and cancelling; dragging it reschedules ---

  let shown = null;
  function openAppointment(event) {
    shown = event;
    const props = event.extendedProps;
    document.getElementById("appointment-title").textContent = `${props.attendee}: ${props.title}`;
    document.getElementById("appointment-details").textContent =
      `${when(event.startStr, event.endStr)} with ${props.consultant}. ${props.status_label}.${props.notes ? ` ${props.notes}` : ""}`;
    appointmentForm.querySelector(".dialog-error").textContent = "";
    appointmentForm.querySelector("[value=cancel-appointment]").hidden = props.status !== "scheduled";
    appointmentDialog.showModal();
  }

  appointmentForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await api("POST", `/api/v1/appointments/${shown.id}/cancel`, {reason: appointmentForm.elements.reason.value});
      appointmentDialog.close();
      say(`Cancelled: ${shown.extendedProps.attendee}, ${when(shown.startStr, shown.endStr)}.`, "success");
      calendar.refetchEvents();
    } catch (failure) {
      appointmentForm.querySelector(".dialog-error").textContent = failure.message;
    }
  });

  for (const dialog of [bookingDialog, appointmentDialog]) {
    dialog.querySelector("button[type=button]").addEventListener("click", () => dialog.close());
  }

  async function reschedule(info) {
    const props = info.event.extendedProps;
    if (!window.confirm(`Move ${props.attendee} to ${when(info.event.startStr, info.event.endStr)}?`)) { info.revert(); return; }
    const body = {start: info.event.startStr, end: info.event.endStr};
    try {
      await api("POST", `/api/v1/appointments/${info.event.id}/reschedule`, body);
      say(`Moved: ${props.attendee}, ${when(info.event.startStr, info.event.endStr)}.`, "success");
    } catch (failure) {
      if (failure.code === "outside_opening_hours" && failure.details.may_override
          && window.confirm(`${failure.message} Move it anyway?`)) {
        try {
          await api("POST", `/api/v1/appointments/${info.event.id}/reschedule`, {...body, allow_outside_hours: true});
          say(`Moved outside the opening hours: ${props.attendee}, ${when(info.event.startStr, info.event.endStr)}.`, "success");
        } catch (again) {
          info.revert();
          say(`Not moved. ${failureText(again)}`, "error");
        }
      } else {
        info.revert();
        say(`Not moved. ${failureText(failure)}`, "error");
      }
    }
    calendar.refetchEvents();
  }

  if (config.start) {  // "book this slot" from the home page
    openBooking(config.start, local(config.start).plus({minutes: config.slot_minutes}).toISO());
  } else if (config.lead) {
    say(`Booking for ${config.lead.name}: click a free slot (each consultant's in their colour), or select a time.`);
  }
})();
